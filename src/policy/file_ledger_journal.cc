#include "policy/file_ledger_journal.h"

#include <fcntl.h>
#include <unistd.h>

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

}  // namespace

absl::StatusOr<std::unique_ptr<FileLedgerJournal>> FileLedgerJournal::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("open", path);
  return std::unique_ptr<FileLedgerJournal>(new FileLedgerJournal(path, fd));
}

FileLedgerJournal::~FileLedgerJournal() {
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) ::close(fd_);
}

absl::Status FileLedgerJournal::Append(const LedgerRecord& record) {
  std::string line = EncodeLedgerRecord(record);
  line.push_back('\n');
  absl::MutexLock lock(&mu_);
  if (fd_ < 0) return absl::UnavailableError("ledger journal " + path_ + " is closed");
  RETURN_IF_ERROR(WriteAll(fd_, line, path_));
  if (::fdatasync(fd_) != 0) return IoError("fdatasync", path_);
  return absl::OkStatus();
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
  std::string data;
  for (const LedgerRecord& r : records) {
    data += EncodeLedgerRecord(r);
    data.push_back('\n');
  }
  absl::MutexLock lock(&mu_);
  const std::string tmp = path_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("open", tmp);
  absl::Status st = WriteAll(fd, data, tmp);
  if (st.ok() && ::fsync(fd) != 0) st = IoError("fsync", tmp);
  ::close(fd);
  if (!st.ok()) return st;
  if (::rename(tmp.c_str(), path_.c_str()) != 0) return IoError("rename", tmp);
  int dir = ::open(DirName(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  int nfd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (nfd < 0) return IoError("reopen", path_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = nfd;
  return absl::OkStatus();
}

}  // namespace sigil::policy
