#include "audit/checkpoint.h"

#include <string_view>

#include "base/hex.h"
#include "base/status.h"

namespace sigil::audit {
namespace {

absl::Status Malformed(const std::string& what) {
  return absl::InvalidArgumentError("malformed audit checkpoint: " + what);
}

// Consumes "<prefix><value>\n" from `in`, returning value.
absl::StatusOr<std::string_view> TakeLine(std::string_view& in, std::string_view prefix) {
  if (in.substr(0, prefix.size()) != prefix) return Malformed("expected line \"" + std::string(prefix) + "...\"");
  size_t nl = in.find('\n', prefix.size());
  if (nl == std::string_view::npos) return Malformed("line \"" + std::string(prefix) + "...\" is not terminated");
  std::string_view value = in.substr(prefix.size(), nl - prefix.size());
  in.remove_prefix(nl + 1);
  return value;
}

absl::StatusOr<uint64_t> ParseDecimal(std::string_view s, const char* what) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) {
    return Malformed(std::string(what) + " is not a canonical decimal");
  }
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Malformed(std::string(what) + " is not a canonical decimal");
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return Malformed(std::string(what) + " is out of range");
    v = v * 10 + d;
  }
  return v;
}

template <size_t N>
absl::StatusOr<std::array<uint8_t, N>> ParseFixedHex(std::string_view s, const char* what) {
  if (s.size() != 2 * N) return Malformed(std::string(what) + " must be " + std::to_string(2 * N) + " hex digits");
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Malformed(std::string(what) + " must be lower-case hex");
    }
  }
  ASSIGN_OR_RETURN(Bytes bytes, HexDecode(std::string(s)));
  std::array<uint8_t, N> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

}  // namespace

std::string CheckpointMessage(const Checkpoint& c) {
  std::string m;
  m.reserve(200);
  m += kCheckpointDomain;
  m += "\nlog ";
  m += HexEncode(c.log_id);
  m += "\nsize ";
  m += std::to_string(c.tree_size);
  m += "\nroot ";
  m += HexEncode(c.root);
  m += "\ntime ";
  m += std::to_string(c.time_ms);
  m += "\n";
  return m;
}

std::string EncodeSignedCheckpoint(const SignedCheckpoint& s) {
  return CheckpointMessage(s.checkpoint) + "sig " + HexEncode(s.signature) + "\n";
}

absl::StatusOr<SignedCheckpoint> ParseSignedCheckpoint(std::span<const uint8_t> bytes) {
  if (bytes.size() > 1024) return Malformed("too long");
  std::string_view in(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  SignedCheckpoint s;
  ASSIGN_OR_RETURN(auto domain, TakeLine(in, ""));
  if (domain != kCheckpointDomain) return Malformed("unknown domain line (not a sigil-audit-checkpoint/v1)");
  ASSIGN_OR_RETURN(auto log, TakeLine(in, "log "));
  ASSIGN_OR_RETURN(s.checkpoint.log_id, ParseFixedHex<16>(log, "log id"));
  ASSIGN_OR_RETURN(auto size, TakeLine(in, "size "));
  ASSIGN_OR_RETURN(s.checkpoint.tree_size, ParseDecimal(size, "size"));
  ASSIGN_OR_RETURN(auto root, TakeLine(in, "root "));
  ASSIGN_OR_RETURN(s.checkpoint.root, ParseFixedHex<32>(root, "root"));
  ASSIGN_OR_RETURN(auto time, TakeLine(in, "time "));
  ASSIGN_OR_RETURN(s.checkpoint.time_ms, ParseDecimal(time, "time"));
  ASSIGN_OR_RETURN(auto sig, TakeLine(in, "sig "));
  ASSIGN_OR_RETURN(s.signature, ParseFixedHex<64>(sig, "signature"));
  if (!in.empty()) return Malformed("trailing bytes");
  return s;
}

bool VerifyCheckpointSignature(const SignedCheckpoint& s, const crypto::Ed25519PublicKey& key) {
  const std::string message = CheckpointMessage(s.checkpoint);
  return crypto::Ed25519Verify(key, AsBytes(message), s.signature);
}

nlohmann::json SignedCheckpoint::ToJson() const {
  return nlohmann::json{{"log_id", HexEncode(checkpoint.log_id)},
                        {"tree_size", checkpoint.tree_size},
                        {"root", HexEncode(checkpoint.root)},
                        {"time_ms", checkpoint.time_ms},
                        {"signature", HexEncode(signature)}};
}

absl::StatusOr<SignedCheckpoint> SignedCheckpoint::FromJson(const nlohmann::json& j) {
  try {
    if (!j.is_object()) return Malformed("not a JSON object");
    SignedCheckpoint s;
    if (!j.at("tree_size").is_number_unsigned() || !j.at("time_ms").is_number_unsigned()) {
      return Malformed("tree_size and time_ms must be unsigned integers");
    }
    s.checkpoint.tree_size = j.at("tree_size").get<uint64_t>();
    s.checkpoint.time_ms = j.at("time_ms").get<uint64_t>();
    ASSIGN_OR_RETURN(s.checkpoint.log_id, ParseFixedHex<16>(j.at("log_id").get<std::string>(), "log_id"));
    ASSIGN_OR_RETURN(s.checkpoint.root, ParseFixedHex<32>(j.at("root").get<std::string>(), "root"));
    ASSIGN_OR_RETURN(s.signature, ParseFixedHex<64>(j.at("signature").get<std::string>(), "signature"));
    return s;
  } catch (const nlohmann::json::exception& e) {
    return Malformed(std::string("JSON: ") + e.what());
  }
}

}  // namespace sigil::audit
