#include "audit/log_verifier.h"

#include <algorithm>
#include <limits>
#include <map>

#include "absl/strings/numbers.h"
#include "audit/record.h"
#include "base/hex.h"

namespace sigil::audit {
namespace {

constexpr size_t kMaxErrors = 100;

class ErrorList {
 public:
  explicit ErrorList(std::vector<VerifyError>& out) : out_(out) {}
  ~ErrorList() {
    if (dropped_ > 0) {
      out_.push_back(VerifyError{std::to_string(dropped_) + " further errors not shown", 0, std::nullopt});
    }
  }
  void Add(std::string what, uint64_t offset, std::optional<uint64_t> seq = std::nullopt) {
    if (out_.size() >= kMaxErrors) {
      ++dropped_;
      return;
    }
    out_.push_back(VerifyError{std::move(what), offset, seq});
  }

 private:
  std::vector<VerifyError>& out_;
  uint64_t dropped_ = 0;
};

struct SeenCheckpoint {
  SignedCheckpoint checkpoint;
  uint64_t offset;
};

std::string Str(uint64_t v) { return std::to_string(v); }

}  // namespace

nlohmann::json VerifyError::ToJson() const {
  nlohmann::json j{{"what", what}, {"offset", offset}};
  if (seq) j["seq"] = *seq;
  return j;
}

nlohmann::json VerifyReport::ToJson() const {
  nlohmann::json errs = nlohmann::json::array();
  for (const auto& e : errors) errs.push_back(e.ToJson());
  nlohmann::json j{{"valid", valid},   {"errors", errs},          {"records", records},
                   {"checkpoints", checkpoints}, {"root", HexEncode(root)}};
  if (latest_checkpoint) j["latest_checkpoint"] = latest_checkpoint->ToJson();
  if (log_id) j["log_id"] = HexEncode(*log_id);
  if (torn_tail_bytes) j["torn_tail_bytes"] = torn_tail_bytes;
  if (!recovered.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const RecoveredRange& r : recovered) {
      list.push_back({{"seq", r.seq},
                      {"covered_size", r.covered_size},
                      {"records_at_open", r.records_at_open},
                      {"torn_tail_bytes", r.torn_tail_bytes}});
    }
    j["recovered"] = std::move(list);
  }
  if (!discontinuities.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const LogDiscontinuity& d : discontinuities) {
      list.push_back({{"seq", d.seq},
                      {"anchored_log_id", d.anchored_log_id},
                      {"anchored_size", d.anchored_size},
                      {"reason", d.reason}});
    }
    j["discontinuities"] = std::move(list);
  }
  return j;
}

namespace {

// Verifies the frames of `stream` one at a time: memory use is the Merkle
// tree, the record offsets and the checkpoints, never the file.
LogReplay ReplayStream(LogFrameStream& stream, const crypto::Ed25519PublicKey& audit_key,
                       const VerifyOptions& options) {
  LogReplay out;
  VerifyReport& report = out.report;
  {
    ErrorList errors(report.errors);
    auto header_or = stream.ReadHeader();
    if (!header_or.ok()) {
      if (!absl::IsDataLoss(header_or.status())) out.read_status = header_or.status();
      errors.Add(std::string(header_or.status().message()), 0);
    } else {
      const LogHeader& header = *header_or;
      out.header_ok = true;
      out.header = header;
      report.log_id = header.log_id;
      if (header.audit_key != audit_key) {
        errors.Add("the log header names audit key " + HexEncode(header.audit_key) +
                       " but it is being verified against " + HexEncode(audit_key),
                   28);
      }

      // The previous record's seq (GCC mis-warns on std::optional here).
      bool have_prev = false;
      uint64_t prev_seq = 0;
      std::vector<SeenCheckpoint> checkpoints;  // valid signature, right log
      bool read_failed = false;
      for (;;) {
        auto next = stream.Next();
        if (!next.ok()) {
          errors.Add("cannot read the log at offset " + Str(stream.valid_end()) + ": " +
                         std::string(next.status().message()),
                     stream.valid_end());
          read_failed = true;
          out.read_status = next.status();
          break;
        }
        if (!next->has_value()) break;
        const Frame& frame = **next;
        const uint64_t entry = out.tree.Size();
        if (frame.type == FrameType::kRecord) {
          out.tree.Append(HashLeaf(frame.payload));
          out.record_offsets.push_back(frame.offset);
          auto record = ParseRecord(frame.payload);
          if (!record.ok()) {
            errors.Add("record " + Str(entry) + " is malformed: " + std::string(record.status().message()),
                       frame.offset, entry);
            have_prev = false;
            continue;
          }
          const uint64_t seq = record->seq;
          const uint64_t want = have_prev ? prev_seq + 1 : entry;
          if (seq != want) {
            if (have_prev && seq <= prev_seq) {
              errors.Add("record has seq " + Str(seq) + " after seq " + Str(prev_seq) +
                             ": a duplicated or reordered record",
                         frame.offset, entry);
            } else if (seq > want) {
              errors.Add("seq jumps to " + Str(seq) + " where " + Str(want) + " was expected: records " +
                             Str(want) + ".." + Str(seq - 1) + " are missing (deleted) or out of order",
                         frame.offset, entry);
            } else {
              errors.Add("record has seq " + Str(seq) + " at position " + Str(entry) +
                             ": records were inserted or deleted before it",
                         frame.offset, entry);
            }
          }
          prev_seq = seq;
          have_prev = true;
          auto text = [&](const char* name) -> std::string {
            auto it = record->extra.find(name);
            return it != record->extra.end() ? it->second : std::string();
          };
          auto number = [&](const char* name) -> uint64_t {
            uint64_t v = 0;
            return absl::SimpleAtoi(text(name), &v) ? v : 0;
          };
          if (record->type == record_type::kAuditRecovered) {
            report.recovered.push_back(
                {seq, number("covered_size"), number("records_at_open"), number("torn_tail_bytes")});
          } else if (record->type == record_type::kAuditDiscontinuity) {
            report.discontinuities.push_back({seq, text("anchored_log_id"), number("anchored_size"), record->reason});
          }
          if (options.on_record) options.on_record(*record);
          continue;
        }
        // Checkpoint frame.
        ++report.checkpoints;
        auto parsed = ParseSignedCheckpoint(frame.payload);
        if (!parsed.ok()) {
          errors.Add(std::string(parsed.status().message()), frame.offset);
          continue;
        }
        const Checkpoint& c = parsed->checkpoint;
        const std::string where = "checkpoint (size " + Str(c.tree_size) + ")";
        if (c.log_id != header.log_id) {
          errors.Add(where + " belongs to another log (" + HexEncode(c.log_id) + ")", frame.offset);
          continue;
        }
        if (!VerifyCheckpointSignature(*parsed, audit_key)) {
          errors.Add(where + " is not signed by the audit key " + HexEncode(audit_key), frame.offset);
          continue;
        }
        if (c.tree_size != entry) {
          errors.Add(where + " follows " + Str(entry) + " records: records were " +
                         (c.tree_size > entry ? "deleted" : "inserted") + " before it",
                     frame.offset);
        }
        if (!checkpoints.empty() && c.tree_size < checkpoints.back().checkpoint.checkpoint.tree_size) {
          errors.Add(where + " is smaller than the previous checkpoint (size " +
                         Str(checkpoints.back().checkpoint.checkpoint.tree_size) + "): checkpoints reordered",
                     frame.offset);
        }
        checkpoints.push_back(SeenCheckpoint{*parsed, frame.offset});
        out.latest_checkpoint = *parsed;
      }
      out.valid_end = stream.valid_end();
      out.tail = stream.tail();
      report.records = out.tree.Size();
      report.root = out.tree.Root();
      report.latest_checkpoint = out.latest_checkpoint;

      // Every checkpoint must commit to a prefix of these records.
      std::vector<bool> matches(checkpoints.size(), false);
      std::map<uint64_t, size_t> by_size;  // first checkpoint seen for each size
      for (size_t i = 0; i < checkpoints.size(); ++i) {
        const Checkpoint& c = checkpoints[i].checkpoint.checkpoint;
        const uint64_t off = checkpoints[i].offset;
        auto [it, fresh] = by_size.emplace(c.tree_size, i);
        if (!fresh && checkpoints[it->second].checkpoint.checkpoint.root != c.root) {
          errors.Add("two checkpoints for size " + Str(c.tree_size) + " (offsets " +
                         Str(checkpoints[it->second].offset) + " and " + Str(off) +
                         ") have different roots: the audit key signed two histories",
                     off);
        }
        if (c.tree_size > report.records) {
          errors.Add("checkpoint (size " + Str(c.tree_size) + ") covers more records than the log holds (" +
                         Str(report.records) + "): the log was truncated",
                     off);
          continue;
        }
        matches[i] = out.tree.RootAt(c.tree_size).value() == c.root;
        if (!matches[i]) {
          errors.Add("checkpoint (size " + Str(c.tree_size) + ") does not match the records' Merkle root", off);
        }
      }
      // Localise the damage: between the last matching checkpoint and the
      // first one that does not match.
      uint64_t good_size = 0;
      for (size_t i = 0; i < checkpoints.size(); ++i) {
        const uint64_t size = checkpoints[i].checkpoint.checkpoint.tree_size;
        if (size > report.records) continue;
        if (matches[i]) {
          good_size = std::max(good_size, size);
          continue;
        }
        const uint64_t at = good_size < out.record_offsets.size() ? out.record_offsets[good_size] : out.valid_end;
        errors.Add("records with seq in [" + Str(good_size) + ", " + Str(size) +
                       ") were altered, or the checkpoint was not made from this log",
                   at, good_size);
        break;
      }
      // A checkpoint that does not match the records, followed by one that
      // does, was signed over a history that the later one contradicts.
      for (size_t i = 0; i < checkpoints.size(); ++i) {
        if (matches[i] || checkpoints[i].checkpoint.checkpoint.tree_size > report.records) continue;
        for (size_t k = i + 1; k < checkpoints.size(); ++k) {
          if (!matches[k]) continue;
          const Checkpoint& a = checkpoints[i].checkpoint.checkpoint;
          const Checkpoint& b = checkpoints[k].checkpoint.checkpoint;
          auto proof = out.tree.ConsistencyPath(std::min(a.tree_size, b.tree_size), b.tree_size);
          absl::Status consistent =
              proof.ok() ? VerifyConsistency(a.tree_size, b.tree_size, a.root, b.root, *proof) : proof.status();
          if (a.tree_size <= b.tree_size && !consistent.ok()) {
            errors.Add("checkpoint (size " + Str(a.tree_size) + ", offset " + Str(checkpoints[i].offset) +
                           ") is not consistent with the later checkpoint (size " + Str(b.tree_size) + ", offset " +
                           Str(checkpoints[k].offset) + ")",
                       checkpoints[i].offset);
          }
          break;
        }
      }

      switch (read_failed ? LogScan::Tail::kClean : stream.tail()) {
        case LogScan::Tail::kClean:
          break;
        case LogScan::Tail::kTorn:
          report.torn_tail_bytes = stream.total_size() - stream.valid_end();
          if (!options.allow_torn_tail) {
            errors.Add("the file ends in the middle of a frame (" + stream.tail_problem() + "): it was truncated",
                       stream.valid_end());
          }
          break;
        case LogScan::Tail::kCorrupt:
          errors.Add("damaged frame (" + stream.tail_problem() + "); the " +
                         Str(stream.total_size() - stream.valid_end()) + " bytes from here on were not read",
                     stream.valid_end(), report.records);
          break;
      }

      if (options.require_final_checkpoint) {
        const uint64_t covered = out.latest_checkpoint ? out.latest_checkpoint->checkpoint.tree_size : 0;
        if (!out.latest_checkpoint) {
          errors.Add("the log has no valid checkpoint", out.valid_end);
        } else if (covered < report.records) {
          errors.Add("records with seq >= " + Str(covered) + " are not covered by a signed checkpoint: the log "
                         "was cut after its last checkpoint, or they were added without the audit key",
                     out.record_offsets[covered], covered);
        }
      }

      if (options.trusted_checkpoint) {
        const SignedCheckpoint& t = *options.trusted_checkpoint;
        const uint64_t size = t.checkpoint.tree_size;
        if (!VerifyCheckpointSignature(t, audit_key)) {
          errors.Add("the trusted checkpoint is not signed by the audit key", 0);
        } else if (t.checkpoint.log_id != header.log_id) {
          errors.Add("the trusted checkpoint belongs to another log (" + HexEncode(t.checkpoint.log_id) + ")", 0);
        } else if (size > report.records) {
          errors.Add("the log was truncated: a trusted checkpoint covers " + Str(size) + " records, the log holds " +
                         Str(report.records),
                     out.valid_end, report.records);
        } else if (out.tree.RootAt(size).value() != t.checkpoint.root) {
          errors.Add("the log does not extend the trusted checkpoint (size " + Str(size) +
                         "): its history was rewritten",
                     size < out.record_offsets.size() ? out.record_offsets[size] : out.valid_end);
        }
      }
      if (options.trusted_head) {
        const uint64_t size = options.trusted_head->size;
        if (size > report.records) {
          errors.Add("the log was truncated: the trusted tree head covers " + Str(size) + " records, the log holds " +
                         Str(report.records),
                     out.valid_end, report.records);
        } else if (out.tree.RootAt(size).value() != options.trusted_head->root) {
          errors.Add("the log is not consistent with the trusted tree head (size " + Str(size) + ", root " +
                         HexEncode(options.trusted_head->root) + "): its history was rewritten",
                     size < out.record_offsets.size() ? out.record_offsets[size] : out.valid_end);
        }
      }
    }
  }
  report.valid = report.errors.empty();
  return out;
}

}  // namespace

LogReplay ReplayLog(std::span<const uint8_t> bytes, const crypto::Ed25519PublicKey& audit_key,
                    const VerifyOptions& options) {
  LogFrameStream stream([bytes](uint64_t offset, uint64_t length) -> absl::StatusOr<Bytes> {
    if (offset >= bytes.size()) return Bytes();
    auto part = bytes.subspan(offset, std::min<uint64_t>(length, bytes.size() - offset));
    return Bytes(part.begin(), part.end());
  });
  return ReplayStream(stream, audit_key, options);
}

LogReplay ReplayLogFile(Env& env, const std::string& path, uint64_t limit, const crypto::Ed25519PublicKey& audit_key,
                        const VerifyOptions& options) {
  LogFrameStream stream([&env, &path, limit](uint64_t offset, uint64_t length) -> absl::StatusOr<Bytes> {
    if (offset >= limit) return Bytes();
    return env.ReadFile(path, offset, std::min(length, limit - offset));
  });
  return ReplayStream(stream, audit_key, options);
}

absl::StatusOr<SignedCheckpoint> ParseTrustedCheckpoint(std::string_view text) {
  if (text.size() > 64 * 1024) return absl::InvalidArgumentError("a checkpoint file is at most 64 KiB");
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    auto stored = ParseSignedCheckpoint(AsBytes(text));
    if (stored.ok()) return stored;
    return absl::InvalidArgumentError(
        "the checkpoint is neither JSON (a checkpoint, or a report with latest_checkpoint) nor the stored text form");
  }
  if (doc.is_object() && doc.contains("latest_checkpoint")) doc = doc["latest_checkpoint"];
  if (!doc.is_object() || !doc.contains("tree_size")) {
    return absl::InvalidArgumentError("the checkpoint JSON has no tree_size (a report without latest_checkpoint?)");
  }
  auto parsed = SignedCheckpoint::FromJson(doc);
  if (!parsed.ok()) return absl::InvalidArgumentError("invalid checkpoint: " + std::string(parsed.status().message()));
  return parsed;
}

VerifyReport VerifyLogBytes(std::span<const uint8_t> bytes, const crypto::Ed25519PublicKey& audit_key,
                            const VerifyOptions& options) {
  return ReplayLog(bytes, audit_key, options).report;
}

VerifyReport VerifyExportFile(Env& env, const std::string& path, const crypto::Ed25519PublicKey& audit_key,
                              const VerifyOptions& options) {
  auto exists = env.FileExists(path);
  if (!exists.ok() || !*exists) {
    VerifyReport report;
    report.errors.push_back(VerifyError{
        "cannot read " + path + ": " + (exists.ok() ? std::string("no such file") : std::string(exists.status().message())),
        0, std::nullopt});
    return report;
  }
  return ReplayLogFile(env, path, std::numeric_limits<uint64_t>::max(), audit_key, options).report;
}

}  // namespace sigil::audit
