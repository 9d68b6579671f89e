#include "policy/file_ledger_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/status.h"

namespace sigil::policy {
namespace {

absl::Status IoError(const std::string& what, const std::string& path) {
  return absl::UnavailableError("ledger journal " + path + ": " + what + " failed: " + std::strerror(errno));
}

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// fsync of the folder holding `path`, so a rename into it is durable.
bool SyncDirectoryOf(const std::string& path) {
  int dir = ::open(DirName(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return false;
  const bool ok = ::fsync(dir) == 0;
  const int e = errno;
  ::close(dir);
  errno = e;
  return ok;
}

// Adds lines (after, through] to `ranges` (sorted, disjoint), merging the
// ranges it overlaps or touches. Past `max` ranges, the two with the
// smallest gap between them merge, so the gap's lines join the doubt: only
// ever more lines are refused, never fewer.
void AddDoubt(std::vector<std::pair<uint64_t, uint64_t>>& ranges, uint64_t after, uint64_t through, size_t max) {
  if (through <= after) return;
  ranges.emplace_back(after, through);
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  while (merged.size() > max && merged.size() > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < merged.size(); ++i) {
      if (merged[i + 1].first - merged[i].second < merged[best + 1].first - merged[best].second) best = i;
    }
    merged[best].second = merged[best + 1].second;
    merged.erase(merged.begin() + static_cast<std::ptrdiff_t>(best) + 1);
  }
  ranges = std::move(merged);
}

// Cuts a torn last line (a crash mid-append: no final '\n') off the file
// open as `fd` and syncs the cut. ReadAll skips such a line, but the next
// append would be glued to it into one unreadable line, and the restart
// after that would fail with DataLoss. Its bytes were never reported
// durable, so dropping them forgets nothing. Reads back from the end only
// as far as the last newline.
absl::Status CutTornTail(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return IoError("fstat", path);
  const off_t size = st.st_size;
  off_t end = size;  // the cut: just after the last '\n', or 0
  char buf[4096];
  while (end > 0) {
    const off_t start = std::max<off_t>(0, end - static_cast<off_t>(sizeof buf));
    const size_t len = static_cast<size_t>(end - start);
    ssize_t n = ::pread(fd, buf, len, start);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(len)) {
      if (n >= 0) errno = EIO;
      return IoError("read", path);
    }
    const size_t nl = std::string_view(buf, len).rfind('\n');
    if (nl != std::string_view::npos) {
      end = start + static_cast<off_t>(nl) + 1;
      break;
    }
    end = start;
  }
  if (end == size) return absl::OkStatus();
  if (::ftruncate(fd, end) != 0) return IoError("cutting a torn last line (ftruncate)", path);
  if (::fdatasync(fd) != 0) return IoError("fdatasync", path);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<FileLedgerJournal>> FileLedgerJournal::Open(const std::string& path,
                                                                          size_t max_rewrite_tail_bytes) {
  // O_RDWR: CutTornTail reads the end back.
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("open", path);
  if (absl::Status st = CutTornTail(fd, path); !st.ok()) {
    ::close(fd);
    return st;
  }
  return std::unique_ptr<FileLedgerJournal>(new FileLedgerJournal(path, fd, max_rewrite_tail_bytes));
}

FileLedgerJournal::~FileLedgerJournal() {
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<uint64_t> FileLedgerJournal::WriteLine(const LedgerRecord& record) {
  if (fd_ < 0) return absl::UnavailableError("ledger journal " + path_ + " is closed");
  std::string line = EncodeLedgerRecord(record);
  line.push_back('\n');
  const off_t before = ::lseek(fd_, 0, SEEK_END);
  if (absl::Status st = WriteAll(fd_, line, path_); !st.ok()) {
    // Cut a partial line off, or the next line would be glued to it and the
    // journal would not read back.
    if (before >= 0) (void)::ftruncate(fd_, before);
    return st;
  }
  if (rewriting_ && !tail_overflow_) {
    if (tail_.size() + line.size() > max_rewrite_tail_bytes_) {
      tail_overflow_ = true;
      std::string().swap(tail_);
    } else {
      tail_ += line;
    }
  }
  return ++written_;
}

absl::Status FileLedgerJournal::AppendLazily(const LedgerRecord& record) {
  absl::MutexLock lock(&mu_);
  return WriteLine(record).status();
}

absl::Status FileLedgerJournal::Append(const LedgerRecord& record) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(const uint64_t seq, WriteLine(record));
  return SyncLocked(seq);
}

absl::StatusOr<uint64_t> FileLedgerJournal::AppendDeferred(const LedgerRecord& record) {
  absl::MutexLock lock(&mu_);
  return WriteLine(record);
}

absl::Status FileLedgerJournal::SyncThrough(uint64_t ticket) {
  absl::MutexLock lock(&mu_);
  return SyncLocked(ticket);
}

absl::Status FileLedgerJournal::SyncAll() {
  absl::MutexLock lock(&mu_);
  // Lines in doubt do not fail this one: it is a barrier for what can still
  // be made durable, and each waiter's SyncThrough(ticket) judges its own
  // line. (Failing it would also fail every audit batch until some new line
  // is written.)
  return SyncLocked(written_, /*fail_doubtful=*/false);
}

absl::Status FileLedgerJournal::SyncLocked(uint64_t seq, bool fail_doubtful) {
  while (true) {
    if (fail_doubtful && InDoubt(seq)) {
      return absl::UnavailableError("ledger journal " + path_ + ": fdatasync failed");
    }
    if (synced_ >= seq) break;
    if (syncing_) {
      // Wait for the sync in progress; it may or may not cover `seq`.
      mu_.Await(absl::Condition(
          +[](bool* syncing) { return !*syncing; }, &syncing_));
      continue;
    }
    // Lead a sync covering every line written so far, without holding the
    // lock, so other threads keep writing lines for the next one.
    syncing_ = true;
    const uint64_t target = written_;
    const int fd = fd_;
    const bool dir = dir_unsynced_;
    const std::function<int(int)> sync = fdatasync_;
    mu_.Unlock();
    bool ok = (sync ? sync(fd) : ::fdatasync(fd)) == 0;
    int sync_errno = errno;
    if (ok && dir && !SyncDirectoryOf(path_)) {
      ok = false;
      sync_errno = errno;
    }
    mu_.Lock();
    syncing_ = false;
    if (ok) {
      if (dir) dir_unsynced_ = false;
      synced_ = std::max(synced_, target);
    } else {
      // fdatasync flushes the whole file, not a prefix: a line written while
      // it ran may share a failed page, so it is in doubt too.
      AddDoubt(doubt_, synced_, written_, kMaxDoubtRanges);
      errno = sync_errno;
      return IoError(dir ? "fdatasync (or the folder's fsync after a rewrite)" : "fdatasync", path_);
    }
  }
  return absl::OkStatus();
}

bool FileLedgerJournal::InDoubt(uint64_t seq) const {
  for (const auto& [after, through] : doubt_) {
    if (seq > after && seq <= through) return true;
  }
  return false;
}

void FileLedgerJournal::SetFdatasyncForTesting(std::function<int(int fd)> sync) {
  absl::MutexLock lock(&mu_);
  fdatasync_ = std::move(sync);
}

absl::StatusOr<std::vector<LedgerRecord>> FileLedgerJournal::ReadAll() {
  absl::MutexLock lock(&mu_);
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("open for reading", path_);
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return IoError("read", path_);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  std::vector<LedgerRecord> out;
  size_t start = 0;
  size_t line_no = 0;
  while (start < data.size()) {
    size_t nl = data.find('\n', start);
    ++line_no;
    if (nl == std::string::npos) break;  // torn final append: never reported durable
    std::string_view line(data.data() + start, nl - start);
    start = nl + 1;
    if (line.empty()) continue;
    auto record = DecodeLedgerRecord(line);
    if (!record.ok()) {
      return absl::DataLossError(path_ + " line " + std::to_string(line_no) + ": " +
                                 std::string(record.status().message()));
    }
    out.push_back(std::move(*record));
  }
  return out;
}

absl::Status FileLedgerJournal::Rewrite(std::span<const LedgerRecord> records) {
  if (!BeginRewrite()) return absl::FailedPreconditionError("ledger journal " + path_ + ": a rewrite is under way");
  return FinishRewrite(records);
}

bool FileLedgerJournal::BeginRewrite() {
  absl::MutexLock lock(&mu_);
  if (rewriting_) return false;
  rewriting_ = true;
  tail_overflow_ = false;
  tail_.clear();
  return true;
}

absl::Status FileLedgerJournal::FinishRewrite(std::span<const LedgerRecord> records) {
  {
    absl::MutexLock lock(&mu_);
    if (!rewriting_) return absl::FailedPreconditionError("ledger journal " + path_ + ": no rewrite was begun");
  }
  const std::string tmp = path_ + ".tmp";
  int fd = -1;
  // The bulk of the new journal is written and synced while appends go on.
  std::string data;
  for (const LedgerRecord& r : records) {
    data += EncodeLedgerRecord(r);
    data.push_back('\n');
  }
  absl::Status st;
  // O_APPEND: once renamed, this descriptor is the journal's.
  fd = ::open(tmp.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    st = IoError("open", tmp);
  } else {
    st = WriteAll(fd, data, tmp);
    if (st.ok() && ::fdatasync(fd) != 0) st = IoError("fdatasync", tmp);
  }
  std::string().swap(data);

  absl::MutexLock lock(&mu_);
  if (!st.ok()) return EndRewrite(fd, tmp, st);
  // From here appenders wait: the file descriptor is about to change, so a
  // sync in progress finishes first (Await releases the lock meanwhile, and
  // appends may still arrive), then the lines appended since BeginRewrite
  // join the new file. The overflow check comes after the wait: an append
  // during it may have overflowed the kept lines.
  mu_.Await(absl::Condition(+[](bool* syncing) { return !*syncing; }, &syncing_));
  if (tail_overflow_) {
    return EndRewrite(fd, tmp,
                      absl::ResourceExhaustedError("ledger journal " + path_ + ": more than " +
                                                   std::to_string(max_rewrite_tail_bytes_) +
                                                   " bytes appended during the rewrite; the old journal is kept"));
  }
  if (absl::Status t = WriteAll(fd, tail_, tmp); !t.ok()) return EndRewrite(fd, tmp, t);
  if (::fsync(fd) != 0) return EndRewrite(fd, tmp, IoError("fsync", tmp));
  if (::rename(tmp.c_str(), path_.c_str()) != 0) return EndRewrite(fd, tmp, IoError("rename", tmp));
  // The old file is unlinked: appends must go to the new one from now on.
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  if (SyncDirectoryOf(path_)) {
    synced_ = written_;  // the new file was synced whole, and its name too
  } else {
    // Until the rename is durable, nothing written since the last sync is
    // known durable: the next sync retries the folder first.
    dir_unsynced_ = true;
  }
  return EndRewrite(/*fd=*/-1, tmp, absl::OkStatus());
}

absl::Status FileLedgerJournal::EndRewrite(int fd, const std::string& tmp, absl::Status st) {
  rewriting_ = false;
  tail_overflow_ = false;
  std::string().swap(tail_);
  if (fd >= 0) {
    ::close(fd);
    if (!st.ok()) (void)::unlink(tmp.c_str());
  }
  return st;
}

}  // namespace sigil::policy
