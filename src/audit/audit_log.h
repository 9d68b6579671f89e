// AuditLog: Sigil's tamper-evident, append-only audit log.
//
// Every record is framed into one file (doc/audit-log.md) and becomes a leaf
// of an RFC 6962 Merkle tree; signed checkpoints (tree size, root, time,
// Ed25519 signature by the audit key) are written into the same file every
// `checkpoint_every_records` records or `checkpoint_interval`, and at Close().
//
// Durability: Append() returns only after the record is fsync'd. Concurrent
// appenders are group-committed: the first waiting appender becomes the
// leader, writes every queued record in one write and one fsync, and wakes
// the others (leveldb's writer queue). Receipts are contiguous seqs.
//
// Fail closed (DESIGN.md invariant 2): if a write or fsync fails, every
// Append in that batch returns UnavailableError("audit log cannot be written:
// ..."), nothing of that batch counts as appended (the tree and seq do not
// advance), and the partial bytes are truncated away (or, if truncating fails
// too, before the next write). The next Append retries by itself; there is no
// sticky error state and no restart is needed.
//
// Open() replays the whole file: it rebuilds the tree, checks every frame,
// seq and signed checkpoint, and cuts off a torn tail (an incomplete final
// frame left by a crash). It refuses (DataLoss) a file with damage anywhere
// else, so a complete record is never silently dropped. If the file was not
// closed cleanly (records after its last checkpoint, or a torn tail), Open
// first appends an `audit.recovered` record naming the records no checkpoint
// covered and the bytes cut, so the next checkpoint does not vouch for them
// silently (doc/audit-log.md §6).
//
// A log cut back, replaced or deleted while the process was stopped still
// replays cleanly: only its owner can tell. Given the LogAnchor its owner
// last saw (the daemon keeps one, MAC'd, in its store), Open refuses a file
// that does not continue it, before writing anything (doc/audit-log.md §6).
//
// Thread-safety: all methods are thread-safe. Ownership: the log borrows the
// Env, Clock and CheckpointSigner in its options; they must outlive it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "audit/checkpoint.h"
#include "audit/checkpoint_signer.h"
#include "audit/env.h"
#include "audit/log_verifier.h"
#include "audit/merkle.h"
#include "audit/proof.h"
#include "audit/record.h"
#include "base/clock.h"
#include "nlohmann/json.hpp"

namespace sigil::audit {

// What an owner remembers of its log: the log's id, a size it reached, and
// the Merkle root over that many records.
struct LogAnchor {
  LogId log_id{};
  uint64_t size = 0;
  Hash root{};
  friend bool operator==(const LogAnchor&, const LogAnchor&) = default;
};

struct AuditLogOptions {
  Env* env = nullptr;                  // default: PosixEnv()
  const Clock* clock = nullptr;        // default: RealClock
  CheckpointSigner* signer = nullptr;  // required
  uint64_t checkpoint_every_records = 1000;
  absl::Duration checkpoint_interval = absl::Seconds(60);
  // Start a thread that writes a checkpoint when records have waited
  // `checkpoint_interval` without one (otherwise only appends trigger them).
  bool background_checkpoints = true;
  // false skips fsync: ONLY for benchmarks and tests that measure something
  // else. Appends are then not durable.
  bool sync = true;
  // Upper bound on records in one group commit.
  size_t max_batch_records = 4096;
  // Optional: syncs another file that must be durable whenever this log's
  // records are (the daemon: the budget ledger's journal, which holds the
  // reservations behind its sign.request records). For every batch that
  // holds records the group-commit leader runs it on a companion thread
  // while it writes and syncs the batch, so the two waits overlap instead of
  // adding up; no appender of the batch is released before both have
  // finished. An error fails the batch as an I/O error would: the batch's
  // bytes are truncated away, nothing of it counts as appended, every
  // appender gets Unavailable. Because the two syncs overlap, a crash may
  // leave either file durable without the other; what a caller did after
  // Append returned (a signature leaving) always has both. It must not
  // append to this log.
  std::function<absl::Status()> sync_alongside;
  // Optional: told the number of records each group commit made durable
  // (for the fsync batch size histogram). Runs on the leader's thread after
  // its appenders are released, without the log's lock; keep it short.
  std::function<void(size_t records)> on_batch;
  // Optional: the log as its owner last saw it. Open refuses, with
  // FailedPrecondition and before writing anything, a file that does not
  // continue it: missing or empty, another log, fewer records, or other
  // records up to anchor->size. With accept_discontinuity it opens the file
  // anyway (a new log if there is none) and appends first an
  // audit.discontinuity record naming the anchor and what was found.
  std::optional<LogAnchor> anchor;
  // Instead of `anchor`: why the owner could not read the one it kept. Open
  // then treats the file as not continuing it (nothing can be checked).
  std::string anchor_unreadable;
  bool accept_discontinuity = false;
  // Appended to that refusal's message: what the owner's operator can do.
  std::string discontinuity_hint;
};

// Proof that a record was made durable: its seq (== Merkle leaf index) and
// its leaf hash SHA-256(0x00 || canonical record).
struct AuditReceipt {
  uint64_t seq = 0;
  Hash leaf_hash{};
  nlohmann::json ToJson() const;  // {"seq", "leaf_hash"}
};

struct AuditLogStats {
  uint64_t records_appended = 0;   // since Open
  uint64_t fsyncs = 0;             // successful file syncs of batches
  uint64_t batches = 0;            // successful group commits
  uint64_t last_batch_records = 0;
  uint64_t max_batch_records = 0;
  uint64_t queued_appends = 0;     // appenders waiting or being written now
  uint64_t failed_batches = 0;     // batches refused because I/O failed
  uint64_t checkpoints_written = 0;
  uint64_t checkpoint_failures = 0;  // signer errors (records were still appended)
  uint64_t torn_tail_bytes_truncated = 0;  // at Open
  bool discontinuity_accepted = false;     // at Open: an audit.discontinuity record was appended
  uint64_t tree_size = 0;
};

class AuditLog {
 public:
  // Opens or creates the log at `path`.
  // Errors: InvalidArgument (no signer), FailedPrecondition (the file belongs
  // to another audit key, or another writer has it open), DataLoss (damage or tampering found; nothing is
  // repaired), Unavailable (I/O).
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(const std::string& path, AuditLogOptions options);

  // Writes a final checkpoint if records are uncovered (best effort) and
  // closes. Prefer calling Close() to see its status.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends `record` and blocks until it is durable. The log assigns
  // `record.seq`, and `record.time_ms` if it is 0.
  // Errors: InvalidArgument (ValidateRecord), Unavailable (write/fsync
  // failed; nothing appended, retry later), FailedPrecondition (closed).
  [[nodiscard]] absl::StatusOr<AuditReceipt> Append(AuditRecord record);

  // Writes (durably) a checkpoint of the current tree unless the latest one
  // already covers it, and returns the latest checkpoint.
  [[nodiscard]] absl::StatusOr<SignedCheckpoint> Checkpoint();

  // Final checkpoint, then closes the file. Later calls fail with
  // FailedPrecondition. Returns the first error; the file is closed anyway.
  [[nodiscard]] absl::Status Close();

  uint64_t Size() const;  // durable records
  Hash Root() const;      // root over Size() records
  std::optional<SignedCheckpoint> LatestCheckpoint() const;
  // The log as it is now (its id, Size() and Root(), read together): what
  // an owner keeps to pass as AuditLogOptions::anchor at the next Open.
  LogAnchor Anchor() const;
  crypto::Ed25519PublicKey PublicKey() const { return audit_key_; }
  const LogId& log_id() const { return log_id_; }
  const std::string& path() const { return path_; }
  AuditLogStats Stats() const;

  // Proof that record `seq` is in the tree of `tree_size` records
  // (InvalidArgument unless seq < tree_size <= Size()).
  [[nodiscard]] absl::StatusOr<InclusionProof> ProveInclusion(uint64_t seq, uint64_t tree_size) const;
  // Proof that the tree at old_size is a prefix of the tree at new_size
  // (InvalidArgument unless old_size <= new_size <= Size()).
  [[nodiscard]] absl::StatusOr<ConsistencyProof> ProveConsistency(uint64_t old_size, uint64_t new_size) const;

  // Reads records [first_seq, first_seq + count) back from disk.
  [[nodiscard]] absl::StatusOr<std::vector<AuditRecord>> ReadRecords(uint64_t first_seq, uint64_t count) const;

  // Re-reads the durable file and verifies it with the offline verifier,
  // additionally requiring it to match the in-memory tree and the latest
  // checkpoint this process wrote.
  VerifyReport Verify() const;

  // Checkpoints, then writes the log (all durable records and checkpoints,
  // ending with a checkpoint that covers every record in it) to `path` as a
  // self-contained file in the same format (doc/audit-log.md §5), atomically.
  [[nodiscard]] absl::Status Export(const std::string& path);

 private:
  struct Writer;
  struct Batch;
  class Companion;

  AuditLog(std::string path, AuditLogOptions options, Env& env, const Clock& clock, CheckpointSigner& signer);

  // Reads or creates the file and rebuilds the state. Returns the records
  // Open must append first: audit.discontinuity when the file does not
  // continue options_.anchor (and that is accepted), audit.recovered when
  // it was not closed cleanly (doc/audit-log.md §6).
  absl::StatusOr<std::vector<AuditRecord>> Init();
  // Why a file holding log `found` (nullopt: none) with the records of
  // `tree` does not continue what options_ says the owner last saw; empty if
  // it does (or the owner gave nothing to check).
  std::string Discontinuity(const std::optional<LogId>& found, const MerkleTree& tree) const;
  absl::Status RefuseDiscontinuity(const std::string& gap) const;
  // Enqueues `w`, and either waits for a leader to complete it or leads.
  void Submit(Writer& w);
  // The leader's work outside the mutex.
  void WriteBatch(Batch& batch);
  void BackgroundLoop();
  absl::StatusOr<SignedCheckpoint> SignCheckpoint(uint64_t size, const Hash& root);
  absl::StatusOr<std::pair<SignedCheckpoint, uint64_t>> CheckpointAndEnd();

  const std::string path_;
  const AuditLogOptions options_;
  Env& env_;
  const Clock& clock_;
  CheckpointSigner& signer_;
  crypto::Ed25519PublicKey audit_key_{};
  LogId log_id_{};

  // Used only by the current leader (the writer at the queue's front), so
  // never concurrently.
  std::unique_ptr<WritableFile> file_;
  bool needs_repair_ = false;  // bytes past durable_end_ may be on disk

  mutable absl::Mutex mu_;
  std::deque<Writer*> writers_ ABSL_GUARDED_BY(mu_);
  // The tree may briefly hold leaves of the batch being written; only
  // committed_ of them are durable and visible.
  MerkleTree tree_ ABSL_GUARDED_BY(mu_);
  uint64_t committed_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t durable_end_ ABSL_GUARDED_BY(mu_) = 0;  // file bytes known durable
  std::vector<uint64_t> record_offsets_ ABSL_GUARDED_BY(mu_);
  std::optional<SignedCheckpoint> latest_checkpoint_ ABSL_GUARDED_BY(mu_);
  uint64_t latest_checkpoint_end_ ABSL_GUARDED_BY(mu_) = 0;  // file offset after it
  absl::Time last_checkpoint_time_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  AuditLogStats stats_ ABSL_GUARDED_BY(mu_);

  std::thread background_;
  // Runs options_.sync_alongside; null without one. Used only by the leader.
  std::unique_ptr<Companion> companion_;
};

}  // namespace sigil::audit
