#include "audit/audit_log.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <thread>
#include <utility>

#include "audit/log_format.h"
#include "base/hex.h"
#include "base/status.h"
#include "crypto/random.h"

namespace sigil::audit {

struct AuditLog::Writer {
  enum class Kind { kRecord, kCheckpoint, kClose };
  explicit Writer(Kind k) : kind(k) {}

  const Kind kind;
  AuditRecord* record = nullptr;  // kRecord only

  // Results, written by the leader under mu_.
  bool done = false;
  absl::Status status;
  AuditReceipt receipt;
  SignedCheckpoint checkpoint;
  uint64_t checkpoint_end = 0;
  absl::CondVar cv;
};

// One group commit, prepared by the leader.
struct AuditLog::Batch {
  std::vector<Writer*> writers;
  uint64_t first_seq = 0;
  uint64_t start_offset = 0;
  bool force_checkpoint = false;
  bool close = false;

  // Filled by WriteBatch.
  Bytes buffer;
  std::vector<Writer*> appended;      // record writers in the buffer, in seq order
  std::vector<uint64_t> offsets;      // their frame offsets in the file
  std::vector<Hash> leaf_hashes;
  std::optional<SignedCheckpoint> checkpoint;  // written in this batch
  absl::Status checkpoint_status;              // signer failure, if any
  absl::Status io_status;
};

// Runs one function on its own thread when asked, so the leader can wait for
// it and for its own fsync at the same time. Start() and Wait() alternate,
// called by one thread at a time (the leader).
class AuditLog::Companion {
 public:
  explicit Companion(std::function<absl::Status()> fn) : fn_(std::move(fn)), thread_([this] { Loop(); }) {}
  ~Companion() {
    {
      absl::MutexLock lock(&mu_);
      state_ = State::kStop;
    }
    thread_.join();
  }
  Companion(const Companion&) = delete;
  Companion& operator=(const Companion&) = delete;

  void Start() {
    absl::MutexLock lock(&mu_);
    state_ = State::kRequested;
  }
  absl::Status Wait() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(+[](State* s) { return *s == State::kDone; }, &state_));
    state_ = State::kIdle;
    return std::move(result_);
  }

 private:
  enum class State { kIdle, kRequested, kDone, kStop };
  void Loop() {
    mu_.Lock();
    while (true) {
      mu_.Await(absl::Condition(
          +[](State* s) { return *s == State::kRequested || *s == State::kStop; }, &state_));
      if (state_ == State::kStop) break;
      mu_.Unlock();
      absl::Status result = fn_();
      mu_.Lock();
      result_ = std::move(result);
      state_ = State::kDone;
    }
    mu_.Unlock();
  }

  const std::function<absl::Status()> fn_;
  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kIdle;
  absl::Status result_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // last: starts once the members above exist
};

namespace {

absl::Status Unwritable(const absl::Status& cause) {
  static constexpr char kPrefix[] = "audit log cannot be written: ";
  std::string message(cause.message());
  if (message.rfind(kPrefix, 0) != 0) message = kPrefix + message;
  return absl::UnavailableError(message);
}

}  // namespace

nlohmann::json AuditReceipt::ToJson() const { return {{"seq", seq}, {"leaf_hash", HexEncode(leaf_hash)}}; }

AuditLog::AuditLog(std::string path, AuditLogOptions options, Env& env, const Clock& clock,
                   CheckpointSigner& signer)
    : path_(std::move(path)), options_(options), env_(env), clock_(clock), signer_(signer) {
  audit_key_ = signer_.PublicKey();
  if (options_.sync_alongside) companion_ = std::make_unique<Companion>(options_.sync_alongside);
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path, AuditLogOptions options) {
  if (options.signer == nullptr) return absl::InvalidArgumentError("AuditLog needs a CheckpointSigner");
  if (options.checkpoint_every_records == 0 || options.max_batch_records == 0) {
    return absl::InvalidArgumentError("checkpoint_every_records and max_batch_records must be positive");
  }
  Env& env = options.env ? *options.env : PosixEnv();
  const Clock& clock = options.clock ? *options.clock : RealClock::Instance();
  std::unique_ptr<AuditLog> log(new AuditLog(path, options, env, clock, *options.signer));
  auto first = log->Init();
  absl::Status status = first.status();
  // Before any other append and before the next checkpoint, so the first
  // checkpoint that covers the unvouched records also covers these admissions.
  if (status.ok()) {
    for (AuditRecord& r : *first) {
      status = log->Append(std::move(r)).status();
      if (!status.ok()) break;
    }
  }
  if (!status.ok()) {
    absl::MutexLock lock(&log->mu_);
    // Nothing to flush, and no checkpoint may vouch for a log whose recovery
    // record was not written: the destructor must not touch the file.
    log->closed_ = true;
    return status;
  }
  if (options.background_checkpoints) {
    log->background_ = std::thread([raw = log.get()] { raw->BackgroundLoop(); });
  }
  return log;
}

absl::StatusOr<std::vector<AuditRecord>> AuditLog::Init() {
  // Lock first (OpenWritable holds the file exclusively, creating it if
  // missing), then read: a replay taken while another writer still had the
  // file could be older than the file we then lock, and the torn-tail cut
  // and the next append would destroy that writer's later records.
  auto file = env_.OpenWritable(path_);
  if (absl::IsFailedPrecondition(file.status())) return file.status();
  if (!file.ok()) return Unwritable(file.status());
  file_ = std::move(file).value();
  // Only the header is read here; an existing log is replayed frame by frame
  // in bounded chunks (ReplayLogFile), never held in memory whole.
  ASSIGN_OR_RETURN(Bytes bytes, env_.ReadFile(path_, 0, kLogHeaderSize));
  std::optional<LogReplay> replay;
  if (bytes.size() >= kLogHeaderSize) {
    VerifyOptions vo;
    vo.require_final_checkpoint = false;
    vo.allow_torn_tail = true;
    replay = ReplayLogFile(env_, path_, std::numeric_limits<uint64_t>::max(), audit_key_, vo);
  }

  // Set when the file does not continue options_.anchor.
  std::string gap;
  absl::MutexLock lock(&mu_);
  if (bytes.size() < kLogHeaderSize) {
    // A new log, or one whose creation was cut before its header was
    // complete (it cannot hold records). Anything else is not ours.
    const size_t n = std::min<size_t>(bytes.size(), 8);
    if (!std::equal(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n), kLogMagic) &&
        !std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; })) {
      return absl::DataLossError(path_ + " exists but is not a Sigil audit log");
    }
    gap = Discontinuity(std::nullopt, MerkleTree());
    if (!gap.empty() && !options_.accept_discontinuity) return RefuseDiscontinuity(gap);
    LogHeader header;
    crypto::RandomBytes(header.log_id);
    header.audit_key = audit_key_;
    const Bytes encoded = EncodeLogHeader(header);
    absl::Status created = [&]() -> absl::Status {
      RETURN_IF_ERROR(file_->Truncate(0));
      RETURN_IF_ERROR(file_->Append(encoded));
      RETURN_IF_ERROR(file_->Sync());
      return env_.SyncDir(DirName(path_));
    }();
    if (!created.ok()) return Unwritable(created);
    log_id_ = header.log_id;
    durable_end_ = kLogHeaderSize;
  } else {
    if (!replay->read_status.ok()) return replay->read_status;
    if (!replay->header_ok) {
      return absl::DataLossError("audit log " + path_ + ": " + replay->report.errors.front().what);
    }
    if (replay->header.audit_key != audit_key_) {
      return absl::FailedPreconditionError("audit log " + path_ + " is kept for audit key " +
                                           HexEncode(replay->header.audit_key) + " but the configured signer has " +
                                           HexEncode(audit_key_));
    }
    if (!replay->report.valid) {
      std::string message = "audit log " + path_ + " failed verification and was not opened:";
      for (size_t i = 0; i < replay->report.errors.size() && i < 3; ++i) {
        const VerifyError& e = replay->report.errors[i];
        message += " [offset " + std::to_string(e.offset) + "] " + e.what + ";";
      }
      if (replay->report.errors.size() > 3) {
        message += " and " + std::to_string(replay->report.errors.size() - 3) + " more";
      }
      return absl::DataLossError(message);
    }
    gap = Discontinuity(replay->header.log_id, replay->tree);
    if (!gap.empty() && !options_.accept_discontinuity) return RefuseDiscontinuity(gap);
    absl::Status repaired = [&]() -> absl::Status {
      if (replay->tail == LogScan::Tail::kTorn) {
        // Only an incomplete final frame (or zero fill) is cut: ScanLog has
        // established that no complete frame lies beyond valid_end.
        RETURN_IF_ERROR(file_->Truncate(replay->valid_end));
        stats_.torn_tail_bytes_truncated = replay->report.torn_tail_bytes;
      }
      // What we read may have been only in the page cache (a process crash
      // before its fsync): make it durable before calling it durable.
      return file_->Sync();
    }();
    if (!repaired.ok()) return Unwritable(repaired);
    log_id_ = replay->header.log_id;
    durable_end_ = replay->valid_end;
    committed_ = replay->tree.Size();
    tree_ = std::move(replay->tree);
    record_offsets_ = std::move(replay->record_offsets);
    latest_checkpoint_ = replay->latest_checkpoint;
    if (latest_checkpoint_ && latest_checkpoint_->checkpoint.tree_size == committed_) {
      // Checkpoints follow the records they cover, so the last frame is one.
      latest_checkpoint_end_ = replay->valid_end;
    }
  }
  last_checkpoint_time_ = clock_.Now();
  // A clean Close always ends the file with a checkpoint over every record.
  // Records after the last checkpoint, or a torn tail, mean a crash, or
  // someone who wrote the file while we were stopped: no checkpoint may sign
  // them as if this process had vouched for them when they were written.
  std::vector<AuditRecord> first;
  if (!gap.empty()) {
    // Its owner chose to go on: the log says so before anything else.
    AuditRecord d;
    d.type = record_type::kAuditDiscontinuity;
    d.principal = "sigil";
    d.decision = "accepted";
    d.reason = gap;
    d.extra = {{"records_at_open", std::to_string(committed_)}};
    if (options_.anchor) {
      d.extra["anchored_log_id"] = HexEncode(options_.anchor->log_id);
      d.extra["anchored_size"] = std::to_string(options_.anchor->size);
      d.extra["anchored_root"] = HexEncode(options_.anchor->root);
    }
    first.push_back(std::move(d));
    stats_.discontinuity_accepted = true;
  }
  const uint64_t covered = latest_checkpoint_ ? latest_checkpoint_->checkpoint.tree_size : 0;
  const uint64_t torn = stats_.torn_tail_bytes_truncated;
  if (committed_ == covered && torn == 0) return first;
  AuditRecord r;
  r.type = record_type::kAuditRecovered;
  r.principal = "sigil";
  r.decision = "recovered";
  r.reason = "the log was not closed cleanly: records [" + std::to_string(covered) + ", " +
             std::to_string(committed_) + ") were not covered by a signed checkpoint at open and " +
             std::to_string(torn) + " torn tail bytes were cut";
  r.extra = {{"covered_size", std::to_string(covered)},
             {"records_at_open", std::to_string(committed_)},
             {"torn_tail_bytes", std::to_string(torn)}};
  first.push_back(std::move(r));
  return first;
}

AuditLog::~AuditLog() { (void)Close(); }

absl::StatusOr<AuditReceipt> AuditLog::Append(AuditRecord record) {
  RETURN_IF_ERROR(ValidateRecord(record));
  Writer w(Writer::Kind::kRecord);
  w.record = &record;
  Submit(w);
  if (!w.status.ok()) return w.status;
  return w.receipt;
}

absl::StatusOr<std::pair<SignedCheckpoint, uint64_t>> AuditLog::CheckpointAndEnd() {
  Writer w(Writer::Kind::kCheckpoint);
  Submit(w);
  if (!w.status.ok()) return w.status;
  return std::make_pair(w.checkpoint, w.checkpoint_end);
}

absl::StatusOr<SignedCheckpoint> AuditLog::Checkpoint() {
  ASSIGN_OR_RETURN(auto result, CheckpointAndEnd());
  return result.first;
}

absl::Status AuditLog::Close() {
  bool join;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) return absl::OkStatus();
    join = !stopping_;  // only the first Close joins the thread
    stopping_ = true;
  }
  if (join && background_.joinable()) background_.join();
  Writer w(Writer::Kind::kClose);
  Submit(w);
  if (absl::IsFailedPrecondition(w.status)) return absl::OkStatus();  // a concurrent Close won
  return w.status;
}

void AuditLog::BackgroundLoop() {
  const absl::Duration tick = std::clamp(options_.checkpoint_interval / 4, absl::Milliseconds(10), absl::Seconds(1));
  mu_.Lock();
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), tick);
    if (stopping_) break;
    const uint64_t covered = latest_checkpoint_ ? latest_checkpoint_->checkpoint.tree_size : 0;
    const bool due = committed_ > covered && clock_.Now() - last_checkpoint_time_ >= options_.checkpoint_interval;
    if (due) {
      mu_.Unlock();
      (void)Checkpoint();  // failures are counted in the stats
      mu_.Lock();
    }
  }
  mu_.Unlock();
}

void AuditLog::Submit(Writer& w) {
  mu_.Lock();
  if (closed_) {
    w.status = absl::FailedPreconditionError("audit log " + path_ + " is closed");
    mu_.Unlock();
    return;
  }
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.Wait(&mu_);
  if (w.done) {
    mu_.Unlock();
    return;
  }

  // This writer leads: it takes the queue's front as one batch.
  Batch batch;
  uint64_t records = 0;
  for (Writer* q : writers_) {
    if (q->kind == Writer::Kind::kRecord) {
      if (records == options_.max_batch_records) break;
      ++records;
    }
    batch.writers.push_back(q);
    if (q->kind == Writer::Kind::kCheckpoint) batch.force_checkpoint = true;
    if (q->kind == Writer::Kind::kClose) {
      batch.close = true;
      break;
    }
  }
  batch.first_seq = committed_;
  batch.start_offset = durable_end_;
  if (closed_) {
    batch.io_status = absl::FailedPreconditionError("audit log " + path_ + " is closed");
  }
  mu_.Unlock();

  if (batch.io_status.ok()) WriteBatch(batch);

  mu_.Lock();
  const bool committed = batch.io_status.ok();
  if (committed) {
    for (size_t i = 0; i < batch.appended.size(); ++i) {
      Writer* a = batch.appended[i];
      a->receipt = AuditReceipt{batch.first_seq + i, batch.leaf_hashes[i]};
      record_offsets_.push_back(batch.offsets[i]);
    }
    committed_ += batch.appended.size();
    durable_end_ = batch.start_offset + batch.buffer.size();
    if (!batch.buffer.empty() && options_.sync) ++stats_.fsyncs;
    if (!batch.appended.empty()) {
      ++stats_.batches;
      stats_.records_appended += batch.appended.size();
      stats_.last_batch_records = batch.appended.size();
      stats_.max_batch_records = std::max<uint64_t>(stats_.max_batch_records, batch.appended.size());
    }
    if (batch.checkpoint) {
      latest_checkpoint_ = batch.checkpoint;
      latest_checkpoint_end_ = durable_end_;
      last_checkpoint_time_ = clock_.Now();
      ++stats_.checkpoints_written;
    }
    if (!batch.checkpoint_status.ok()) ++stats_.checkpoint_failures;
  } else {
    tree_.Truncate(committed_);
    if (!absl::IsFailedPrecondition(batch.io_status)) ++stats_.failed_batches;
  }
  for (Writer* q : batch.writers) {
    if (!q->status.ok()) {
      // Already refused (invalid record) by WriteBatch.
    } else if (!committed) {
      q->status = batch.io_status;
    } else if (q->kind == Writer::Kind::kCheckpoint) {
      if (latest_checkpoint_ && latest_checkpoint_->checkpoint.tree_size == committed_) {
        q->checkpoint = *latest_checkpoint_;
        q->checkpoint_end = latest_checkpoint_end_;
      } else {
        q->status = batch.checkpoint_status.ok() ? absl::InternalError("checkpoint was not written")
                                                 : batch.checkpoint_status;
      }
    } else if (q->kind == Writer::Kind::kClose && !batch.checkpoint_status.ok()) {
      q->status = batch.checkpoint_status;
    }
    q->done = true;
    if (q != &w) q->cv.Signal();
  }
  writers_.erase(writers_.begin(), writers_.begin() + static_cast<ptrdiff_t>(batch.writers.size()));
  if (batch.close) {
    // The file is closed by WriteBatch; everyone still queued is refused.
    closed_ = true;
    stopping_ = true;
  }
  if (!writers_.empty()) writers_.front()->cv.Signal();
  const size_t durable_records = committed ? batch.appended.size() : 0;
  mu_.Unlock();
  if (durable_records > 0 && options_.on_batch) options_.on_batch(durable_records);
}

absl::StatusOr<SignedCheckpoint> AuditLog::SignCheckpoint(uint64_t size, const Hash& root) {
  SignedCheckpoint s;
  s.checkpoint.log_id = log_id_;
  s.checkpoint.tree_size = size;
  s.checkpoint.root = root;
  s.checkpoint.time_ms = static_cast<uint64_t>(std::max<int64_t>(0, clock_.NowUnixMillis()));
  const std::string message = CheckpointMessage(s.checkpoint);
  auto signature = signer_.Sign(AsBytes(message));
  if (!signature.ok()) {
    return absl::UnavailableError("audit checkpoint could not be signed: " + std::string(signature.status().message()));
  }
  s.signature = *signature;
  // A signer that signs with another key would make the log unverifiable.
  if (!VerifyCheckpointSignature(s, audit_key_)) {
    return absl::InternalError("audit checkpoint signer produced a signature that does not verify");
  }
  return s;
}

void AuditLog::WriteBatch(Batch& batch) {
  // 1. Encode the records with their seqs; frame them.
  const uint64_t now_ms = static_cast<uint64_t>(std::max<int64_t>(0, clock_.NowUnixMillis()));
  uint64_t seq = batch.first_seq;
  for (Writer* q : batch.writers) {
    if (q->kind != Writer::Kind::kRecord) continue;
    AuditRecord& r = *q->record;
    r.seq = seq;
    if (r.time_ms == 0) r.time_ms = now_ms;
    auto encoded = EncodeRecord(r);
    if (!encoded.ok()) {
      q->status = encoded.status();  // not appended; its seq goes to the next record
      continue;
    }
    batch.offsets.push_back(batch.start_offset + batch.buffer.size());
    AppendFrame(batch.buffer, FrameType::kRecord, AsBytes(*encoded));
    batch.leaf_hashes.push_back(HashLeaf(AsBytes(*encoded)));
    batch.appended.push_back(q);
    ++seq;
  }
  const uint64_t new_size = seq;

  // 2. Extend the tree (invisible beyond committed_) and decide on a checkpoint.
  bool checkpoint_due = false;
  Hash root{};
  {
    absl::MutexLock lock(&mu_);
    for (const Hash& h : batch.leaf_hashes) tree_.Append(h);
    const uint64_t covered = latest_checkpoint_ ? latest_checkpoint_->checkpoint.tree_size : 0;
    const bool uncovered = !latest_checkpoint_ || covered < new_size;
    checkpoint_due = uncovered && (batch.force_checkpoint || batch.close ||
                                   new_size - covered >= options_.checkpoint_every_records ||
                                   clock_.Now() - last_checkpoint_time_ >= options_.checkpoint_interval);
    // A log with no records and no checkpoint gets one only on request.
    if (new_size == 0 && !latest_checkpoint_ && !batch.force_checkpoint) checkpoint_due = false;
    if (checkpoint_due) root = tree_.RootAt(new_size).value();
  }
  if (checkpoint_due) {
    auto signed_checkpoint = SignCheckpoint(new_size, root);
    if (signed_checkpoint.ok()) {
      AppendFrame(batch.buffer, FrameType::kCheckpoint, AsBytes(EncodeSignedCheckpoint(*signed_checkpoint)));
      batch.checkpoint = *signed_checkpoint;
    } else {
      batch.checkpoint_status = signed_checkpoint.status();
    }
  }

  // 3. Write and sync; on failure leave the file as it was.
  if (!batch.buffer.empty()) {
    const bool alongside = companion_ != nullptr && !batch.appended.empty();
    if (alongside) companion_->Start();
    absl::Status io = absl::OkStatus();
    if (needs_repair_) {
      io = file_->Truncate(batch.start_offset);
      if (io.ok()) needs_repair_ = false;
    }
    if (io.ok() && file_->Position() != batch.start_offset) io = file_->Truncate(batch.start_offset);
    if (io.ok()) io = file_->Append(batch.buffer);
    if (io.ok() && options_.sync) io = file_->Sync();
    if (alongside) {
      absl::Status other = companion_->Wait();
      if (io.ok()) io = std::move(other);
    }
    if (!io.ok()) {
      // Drop whatever part of the batch reached the file, so it stays a
      // valid log and the next batch starts at the same offset. The batch
      // may have been synced (only the other file failed): sync the cut too,
      // or a crash could bring back records whose appenders were refused.
      // If either fails, the next batch truncates first.
      needs_repair_ = !file_->Truncate(batch.start_offset).ok() || (options_.sync && !file_->Sync().ok());
      batch.io_status = Unwritable(io);
    }
  }
  if (batch.close) {
    absl::Status closed = file_->Close();
    if (batch.io_status.ok() && !closed.ok()) batch.io_status = Unwritable(closed);
  }
}

uint64_t AuditLog::Size() const {
  absl::MutexLock lock(&mu_);
  return committed_;
}

Hash AuditLog::Root() const {
  absl::MutexLock lock(&mu_);
  return tree_.RootAt(committed_).value();
}

std::optional<SignedCheckpoint> AuditLog::LatestCheckpoint() const {
  absl::MutexLock lock(&mu_);
  return latest_checkpoint_;
}

std::string AuditLog::Discontinuity(const std::optional<LogId>& found, const MerkleTree& tree) const {
  if (!options_.anchor) {
    if (options_.anchor_unreadable.empty()) return "";
    return "its owner's record of the log could not be read (" + options_.anchor_unreadable +
           "), so whether records are missing could not be checked";
  }
  const LogAnchor& anchor = *options_.anchor;
  const std::string anchored = "log " + HexEncode(anchor.log_id) + " of at least " + std::to_string(anchor.size) +
                               " records";
  if (!found) return "the file is missing or empty, but its owner recorded " + anchored + ": it was deleted";
  if (*found != anchor.log_id) {
    return "the file is log " + HexEncode(*found) + ", but its owner recorded " + anchored + ": it was replaced";
  }
  if (tree.Size() < anchor.size) {
    return "the file holds " + std::to_string(tree.Size()) + " records, but its owner recorded " + anchored +
           ": records were cut";
  }
  if (tree.RootAt(anchor.size).value() != anchor.root) {
    return "the file's first " + std::to_string(anchor.size) + " records are not the ones its owner recorded for " +
           anchored + ": they were rewritten";
  }
  return "";
}

absl::Status AuditLog::RefuseDiscontinuity(const std::string& gap) const {
  return absl::FailedPreconditionError("audit log " + path_ + ": " + gap + options_.discontinuity_hint);
}

LogAnchor AuditLog::Anchor() const {
  absl::MutexLock lock(&mu_);
  return LogAnchor{log_id_, committed_, tree_.RootAt(committed_).value()};
}

AuditLogStats AuditLog::Stats() const {
  absl::MutexLock lock(&mu_);
  AuditLogStats s = stats_;
  s.queued_appends = writers_.size();
  s.tree_size = committed_;
  return s;
}

absl::StatusOr<InclusionProof> AuditLog::ProveInclusion(uint64_t seq, uint64_t tree_size) const {
  absl::MutexLock lock(&mu_);
  if (tree_size > committed_) {
    return absl::InvalidArgumentError("tree size " + std::to_string(tree_size) + " exceeds the log size " +
                                      std::to_string(committed_));
  }
  InclusionProof p;
  ASSIGN_OR_RETURN(p.path, tree_.InclusionPath(seq, tree_size));
  p.leaf_index = seq;
  p.tree_size = tree_size;
  p.leaf_hash = tree_.LeafHash(seq);
  p.root = tree_.RootAt(tree_size).value();
  return p;
}

absl::StatusOr<ConsistencyProof> AuditLog::ProveConsistency(uint64_t old_size, uint64_t new_size) const {
  absl::MutexLock lock(&mu_);
  if (new_size > committed_) {
    return absl::InvalidArgumentError("tree size " + std::to_string(new_size) + " exceeds the log size " +
                                      std::to_string(committed_));
  }
  ConsistencyProof p;
  ASSIGN_OR_RETURN(p.path, tree_.ConsistencyPath(old_size, new_size));
  p.old_size = old_size;
  p.new_size = new_size;
  p.old_root = tree_.RootAt(old_size).value();
  p.new_root = tree_.RootAt(new_size).value();
  return p;
}

absl::StatusOr<std::vector<AuditRecord>> AuditLog::ReadRecords(uint64_t first_seq, uint64_t count) const {
  constexpr uint64_t kMaxRead = 100000;
  if (count > kMaxRead) {
    return absl::InvalidArgumentError("read at most " + std::to_string(kMaxRead) + " records at a time");
  }
  std::vector<uint64_t> offsets;
  uint64_t end;
  {
    absl::MutexLock lock(&mu_);
    if (first_seq > committed_ || count > committed_ - first_seq) {
      return absl::OutOfRangeError("records [" + std::to_string(first_seq) + ", " +
                                   std::to_string(first_seq + count) + ") are beyond the log size " +
                                   std::to_string(committed_));
    }
    if (count == 0) return std::vector<AuditRecord>{};
    offsets.assign(record_offsets_.begin() + static_cast<ptrdiff_t>(first_seq),
                   record_offsets_.begin() + static_cast<ptrdiff_t>(first_seq + count));
    end = first_seq + count < committed_ ? record_offsets_[first_seq + count] : durable_end_;
  }
  const uint64_t begin = offsets.front();
  ASSIGN_OR_RETURN(Bytes bytes, env_.ReadFile(path_, begin, end - begin));
  std::vector<AuditRecord> out;
  out.reserve(count);
  for (uint64_t off : offsets) {
    ASSIGN_OR_RETURN(Frame frame, ParseFrameAt(bytes, off - begin));
    if (frame.type != FrameType::kRecord) return absl::DataLossError("expected a record frame at offset " + std::to_string(off));
    ASSIGN_OR_RETURN(AuditRecord r, ParseRecord(frame.payload));
    if (r.seq != first_seq + out.size()) {
      return absl::DataLossError("record at offset " + std::to_string(off) + " has seq " + std::to_string(r.seq) +
                                 ", expected " + std::to_string(first_seq + out.size()));
    }
    out.push_back(std::move(r));
  }
  return out;
}

VerifyReport AuditLog::Verify() const {
  uint64_t end, size;
  Hash root;
  std::optional<SignedCheckpoint> latest;
  {
    absl::MutexLock lock(&mu_);
    end = durable_end_;
    size = committed_;
    root = tree_.RootAt(committed_).value();
    latest = latest_checkpoint_;
  }
  VerifyOptions vo;
  vo.require_final_checkpoint = false;
  vo.trusted_checkpoint = latest;
  // Streamed in bounded chunks, up to the durable end (later bytes may be a
  // batch being written).
  LogReplay replay = ReplayLogFile(env_, path_, end, audit_key_, vo);
  VerifyReport report = std::move(replay.report);
  if (replay.header_ok && replay.valid_end != end) {
    report.errors.push_back(VerifyError{"the file's valid frames end at " + std::to_string(replay.valid_end) +
                                            " bytes, before its durable length " + std::to_string(end),
                                        replay.valid_end, std::nullopt});
  } else if (report.records != size || report.root != root) {
    report.errors.push_back(VerifyError{"the file differs from the log in memory (" + std::to_string(report.records) +
                                            " records on disk, " + std::to_string(size) + " in memory)",
                                        0, std::nullopt});
  }
  report.valid = report.errors.empty();
  return report;
}

absl::Status AuditLog::Export(const std::string& path) {
  ASSIGN_OR_RETURN(auto checkpoint_and_end, CheckpointAndEnd());
  const uint64_t end = checkpoint_and_end.second;
  // Everything before `end` is durable and never rewritten: copy it in
  // bounded chunks, so exporting a log of any size takes constant memory.
  return WriteFileAtomically(env_, path, [&](WritableFile& out) -> absl::Status {
    for (uint64_t offset = 0; offset < end;) {
      const uint64_t want = std::min<uint64_t>(LogFrameStream::kDefaultChunkBytes, end - offset);
      ASSIGN_OR_RETURN(Bytes chunk, env_.ReadFile(path_, offset, want));
      if (chunk.size() != want) return absl::DataLossError("audit log " + path_ + " is shorter than its durable length");
      RETURN_IF_ERROR(out.Append(chunk));
      offset += want;
    }
    return absl::OkStatus();
  });
}

}  // namespace sigil::audit
