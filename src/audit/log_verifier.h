// The offline audit-log verifier: given the bytes of a log (live file or
// export) and the audit public key, decide whether the log is intact, and if
// not, say what is wrong and where (file offset, seq).
//
// It detects (each yields at least one error):
//  * a changed byte anywhere: frame CRC, or if the CRC was recomputed, the
//    Merkle root no longer matches the signed checkpoints covering it;
//  * deleted, inserted, duplicated or reordered records: seq breaks
//    (every record's seq is the previous seq + 1, starting at 0), checkpoint
//    sizes that disagree with their position, roots that do not match;
//  * truncation: an incomplete final frame; records after the last
//    checkpoint (require_final_checkpoint); a trusted checkpoint or tree
//    head larger than the log, or not a prefix of it. Truncation exactly at a checkpoint boundary can only be seen
//    against a checkpoint obtained earlier (trusted_checkpoint): that is the
//    auditor's job of remembering the latest checkpoint it saw;
//  * checkpoints signed by another key, belonging to another log, or not
//    consistent with each other (two roots for one size, or an earlier
//    checkpoint that is not a prefix of a later one that matches the records).
//
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/checkpoint.h"
#include "audit/env.h"
#include "audit/log_format.h"
#include "audit/merkle.h"
#include "audit/record.h"
#include "crypto/ed25519.h"
#include "nlohmann/json.hpp"

namespace sigil::audit {

struct VerifyOptions {
  // An export must end with a checkpoint that covers every record. The live
  // log may have records newer than its last checkpoint.
  bool require_final_checkpoint = true;
  // A live log after a crash may end with a torn (incomplete) frame; an
  // export never does.
  bool allow_torn_tail = false;
  // A checkpoint the verifier obtained earlier (e.g. the last one it saw); the
  // log must contain its tree as a prefix.
  std::optional<SignedCheckpoint> trusted_checkpoint;
  // A tree head the verifier trusts without a signature: a size and root it
  // recorded itself earlier (e.g. from a previous `sigil audit verify`). The
  // log must hold at least `size` records, and its first `size` records must
  // have this root. This catches an export whose trailing checkpoints were
  // stripped along with the records they covered.
  struct TreeHead {
    uint64_t size = 0;
    Hash root{};
  };
  std::optional<TreeHead> trusted_head;
  // Called with every record that parses, in file order (e.g. to build a
  // compliance report from an export after verifying it).
  std::function<void(const AuditRecord&)> on_record;
};

struct VerifyError {
  std::string what;
  uint64_t offset = 0;           // byte offset in the file
  std::optional<uint64_t> seq;   // the record (entry index) concerned, if any
  nlohmann::json ToJson() const;
};

// An audit.recovered record (audit_log.h): the daemon found records no
// checkpoint covered (or a torn tail) when it opened the log. The records
// [covered_size, records_at_open) were not vouched for when written: a
// crash, or someone who wrote the file while it was stopped.
struct RecoveredRange {
  uint64_t seq = 0;  // of the audit.recovered record
  uint64_t covered_size = 0;
  uint64_t records_at_open = 0;
  uint64_t torn_tail_bytes = 0;
};

// An audit.discontinuity record (audit_log.h): the daemon's owner started it
// on a file that did not continue the log the daemon last saw (deleted,
// replaced, cut or rewritten while it was stopped). Records before it may be
// missing from this file.
struct LogDiscontinuity {
  uint64_t seq = 0;  // of the audit.discontinuity record
  std::string anchored_log_id;
  uint64_t anchored_size = 0;
  std::string reason;
};

struct VerifyReport {
  bool valid = false;
  std::vector<VerifyError> errors;  // at most ~100; the last one says if more were dropped
  uint64_t records = 0;             // entries read
  uint64_t checkpoints = 0;         // checkpoint frames read
  Hash root{};                      // Merkle root over all entries read
  std::optional<SignedCheckpoint> latest_checkpoint;  // last checkpoint with a valid signature
  std::optional<LogId> log_id;
  uint64_t torn_tail_bytes = 0;     // bytes after the last frame in a torn tail
  // Every audit.recovered record, in order. Not an error (the log verifies),
  // but what an auditor must look into.
  std::vector<RecoveredRange> recovered;
  // Every audit.discontinuity record, in order; likewise not an error.
  std::vector<LogDiscontinuity> discontinuities;
  // {"valid","errors":[{"what","offset","seq"?}],"records","checkpoints","root","latest_checkpoint"?,"log_id"?,
  //  "torn_tail_bytes"?,"recovered"?:[{"seq","covered_size","records_at_open","torn_tail_bytes"}],
  //  "discontinuities"?:[{"seq","anchored_log_id","anchored_size","reason"}]}
  nlohmann::json ToJson() const;
};

VerifyReport VerifyLogBytes(std::span<const uint8_t> bytes, const crypto::Ed25519PublicKey& audit_key,
                            const VerifyOptions& options = {});
// Reads `path` through `env` in bounded chunks (constant memory beyond the
// Merkle tree) and verifies it; an unreadable file is an invalid report whose
// error says why.
VerifyReport VerifyExportFile(Env& env, const std::string& path, const crypto::Ed25519PublicKey& audit_key,
                              const VerifyOptions& options = {});

// Reads a checkpoint the auditor saved earlier, for
// VerifyOptions::trusted_checkpoint. Accepts the checkpoint JSON
// (SignedCheckpoint::ToJson), a verify report JSON (its "latest_checkpoint",
// as `sigil audit verify --json` prints it) or the stored text form
// (EncodeSignedCheckpoint). InvalidArgument naming what is wrong otherwise.
// The signature is checked by the verifier, not here.
absl::StatusOr<SignedCheckpoint> ParseTrustedCheckpoint(std::string_view text);

// The verifier's full result, for AuditLog::Open to rebuild its state from.
struct LogReplay {
  VerifyReport report;
  bool header_ok = false;
  LogHeader header;
  uint64_t valid_end = 0;  // offset just past the last valid frame
  LogScan::Tail tail = LogScan::Tail::kClean;
  MerkleTree tree;
  std::vector<uint64_t> record_offsets;  // file offset of each entry's frame
  std::optional<SignedCheckpoint> latest_checkpoint;
  // Not OK if reading failed (an I/O error, not damage); the report then
  // says where.
  absl::Status read_status;
};
LogReplay ReplayLog(std::span<const uint8_t> bytes, const crypto::Ed25519PublicKey& audit_key,
                    const VerifyOptions& options);
// The same over the first `limit` bytes of `path`, read through `env` in
// bounded chunks (LogFrameStream): the file is never held in memory whole.
LogReplay ReplayLogFile(Env& env, const std::string& path, uint64_t limit, const crypto::Ed25519PublicKey& audit_key,
                        const VerifyOptions& options);

}  // namespace sigil::audit
