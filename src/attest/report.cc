#include "attest/report.h"

#include <algorithm>
#include <string>
#include <utility>

#include "base/hex.h"
#include "base/json_bounds.h"
#include "base/json_duplicates.h"
#include "base/status.h"

namespace sigil::attest {
namespace {

using nlohmann::json;

absl::Status Invalid(const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError("attestation report: " + field + ": " + what);
}

bool IsLowerHex(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsAlnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Every string in a report is drawn from a small ASCII alphabet, so its
// canonical JSON needs no escaping and has one spelling.
bool IsKeyName(const std::string& s) {
  return !s.empty() && s.size() <= 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return IsAlnum(c) || c == '.' || c == '_' || c == '-'; });
}
bool IsAddress(const std::string& s) { return s.size() <= 128 && std::all_of(s.begin(), s.end(), IsAlnum); }
bool IsVersionString(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return IsAlnum(c) || c == '.' || c == '+' || c == '_' || c == '-';
  });
}

// Public key size for a served key type; 0 for an unknown type.
size_t PublicKeySizeFor(const std::string& type) {
  if (type == "secp256k1") return 65;
  if (type == "schnorr" || type == "ed25519") return 32;
  return 0;
}

// The object must have exactly `required` keys, plus any of `optional`.
absl::Status CheckKeys(const json& j, const std::string& where, std::initializer_list<const char*> required,
                       std::initializer_list<const char*> optional = {}) {
  if (!j.is_object()) return Invalid(where, "must be a JSON object");
  for (const char* k : required) {
    if (!j.contains(k)) return Invalid(where, std::string("missing field \"") + k + "\"");
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const bool known = std::any_of(required.begin(), required.end(), [&](const char* r) { return k == r; }) ||
                       std::any_of(optional.begin(), optional.end(), [&](const char* o) { return k == o; });
    if (!known) {
      // Keys in messages are printed only if they are short and plain, so an
      // attacker cannot smuggle control characters into a verifier's output.
      const bool printable = k.size() <= 64 && std::all_of(k.begin(), k.end(), [](char c) { return c > 0x20 && c < 0x7f; });
      return Invalid(where, printable ? "unknown field \"" + k + "\"" : std::string("unknown field"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> ParseHex(const json& j, const std::string& field, size_t max_bytes) {
  if (!j.is_string()) return Invalid(field, "must be a lower-case hex string");
  const std::string& s = j.get_ref<const std::string&>();
  if (s.size() % 2 != 0 || s.size() > 2 * max_bytes || !IsLowerHex(s)) {
    return Invalid(field, "must be lower-case hex of at most " + std::to_string(max_bytes) + " bytes, without 0x");
  }
  ASSIGN_OR_RETURN(Bytes bytes, HexDecode(s));
  return bytes;
}

template <size_t N>
absl::StatusOr<std::array<uint8_t, N>> ParseFixedHex(const json& j, const std::string& field) {
  if (!j.is_string() || j.get_ref<const std::string&>().size() != 2 * N) {
    return Invalid(field, "must be " + std::to_string(2 * N) + " lower-case hex digits");
  }
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ParseHex(j, field, N));
  std::array<uint8_t, N> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

absl::StatusOr<uint64_t> ParseUint(const json& j, const std::string& field, uint64_t max) {
  if (!j.is_number_unsigned()) return Invalid(field, "must be a non-negative integer");
  const uint64_t v = j.get<uint64_t>();
  if (v > max) return Invalid(field, "must be at most " + std::to_string(max));
  return v;
}

absl::StatusOr<std::string> ParseString(const json& j, const std::string& field) {
  if (!j.is_string()) return Invalid(field, "must be a string");
  return j.get<std::string>();
}

absl::StatusOr<ServedKey> ParseServedKey(const json& j, const std::string& where) {
  RETURN_IF_ERROR(CheckKeys(j, where, {"address", "name", "public_key", "type"}));
  ServedKey key;
  ASSIGN_OR_RETURN(key.address, ParseString(j["address"], where + ".address"));
  ASSIGN_OR_RETURN(key.name, ParseString(j["name"], where + ".name"));
  ASSIGN_OR_RETURN(key.public_key, ParseHex(j["public_key"], where + ".public_key", 65));
  ASSIGN_OR_RETURN(key.type, ParseString(j["type"], where + ".type"));
  return key;
}

absl::StatusOr<TpmQuote> ParseTpmQuote(const json& j) {
  RETURN_IF_ERROR(CheckKeys(j, "tpm_quote", {"ak_public", "attest", "measured_pcr", "pcr_values", "pcrs", "signature"}));
  TpmQuote q;
  ASSIGN_OR_RETURN(q.ak_public, ParseHex(j["ak_public"], "tpm_quote.ak_public", kMaxTpmBlobBytes));
  ASSIGN_OR_RETURN(q.attest, ParseHex(j["attest"], "tpm_quote.attest", kMaxTpmBlobBytes));
  ASSIGN_OR_RETURN(q.signature, ParseHex(j["signature"], "tpm_quote.signature", kMaxTpmBlobBytes));
  const json& pcrs = j["pcrs"];
  if (!pcrs.is_array() || pcrs.size() > 24) return Invalid("tpm_quote.pcrs", "must be an array of at most 24 integers");
  for (const json& p : pcrs) {
    ASSIGN_OR_RETURN(uint64_t index, ParseUint(p, "tpm_quote.pcrs[]", 23));
    q.pcrs.push_back(static_cast<uint32_t>(index));
  }
  const json& values = j["pcr_values"];
  if (!values.is_array() || values.size() > 24) {
    return Invalid("tpm_quote.pcr_values", "must be an array of at most 24 hex digests");
  }
  for (const json& v : values) {
    ASSIGN_OR_RETURN(crypto::Hash256 value, ParseFixedHex<32>(v, "tpm_quote.pcr_values[]"));
    q.pcr_values.push_back(value);
  }
  ASSIGN_OR_RETURN(uint64_t measured, ParseUint(j["measured_pcr"], "tpm_quote.measured_pcr", 23));
  q.measured_pcr = static_cast<uint32_t>(measured);
  return q;
}

absl::Status ValidateServedKey(const ServedKey& key, const std::string& where) {
  if (!IsKeyName(key.name)) return Invalid(where + ".name", "must be 1..64 characters from [A-Za-z0-9._-]");
  const size_t size = PublicKeySizeFor(key.type);
  if (size == 0) return Invalid(where + ".type", "must be \"secp256k1\", \"schnorr\" or \"ed25519\"");
  if (key.public_key.size() != size) {
    return Invalid(where + ".public_key", "a " + key.type + " public key is " + std::to_string(size) + " bytes");
  }
  if (!IsAddress(key.address)) return Invalid(where + ".address", "must be 0..128 characters from [A-Za-z0-9]");
  return absl::OkStatus();
}

absl::Status ValidateTpmQuote(const TpmQuote& q) {
  const std::pair<const std::vector<uint8_t>*, const char*> blobs[] = {
      {&q.ak_public, "tpm_quote.ak_public"}, {&q.attest, "tpm_quote.attest"}, {&q.signature, "tpm_quote.signature"}};
  for (const auto& [blob, field] : blobs) {
    if (blob->empty() || blob->size() > kMaxTpmBlobBytes) {
      return Invalid(field, "must be 1.." + std::to_string(kMaxTpmBlobBytes) + " bytes");
    }
  }
  for (size_t i = 0; i < q.pcrs.size(); ++i) {
    if (q.pcrs[i] > 23 || (i > 0 && q.pcrs[i] <= q.pcrs[i - 1])) {
      return Invalid("tpm_quote.pcrs", "must be strictly ascending PCR indices 0..23");
    }
  }
  if (q.pcrs.empty()) return Invalid("tpm_quote.pcrs", "must name at least one PCR");
  if (q.pcr_values.size() != q.pcrs.size()) {
    return Invalid("tpm_quote.pcr_values", "must hold one value per quoted PCR, in the order of tpm_quote.pcrs");
  }
  if (std::find(q.pcrs.begin(), q.pcrs.end(), q.measured_pcr) == q.pcrs.end()) {
    return Invalid("tpm_quote.measured_pcr", "must be one of the quoted PCRs");
  }
  return absl::OkStatus();
}

json ServedKeyToJson(const ServedKey& k) {
  return json{{"address", k.address}, {"name", k.name}, {"public_key", HexEncode(k.public_key)}, {"type", k.type}};
}

json TpmQuoteToJson(const TpmQuote& q) {
  json values = json::array();
  for (const crypto::Hash256& v : q.pcr_values) values.push_back(HexEncode(v));
  return json{{"ak_public", HexEncode(q.ak_public)},
              {"attest", HexEncode(q.attest)},
              {"measured_pcr", q.measured_pcr},
              {"pcr_values", values},
              {"pcrs", q.pcrs},
              {"signature", HexEncode(q.signature)}};
}

// Every field but `signature`: the object whose canonical form is signed.
json UnsignedJson(const AttestationReport& r) {
  json keys = json::array();
  for (const ServedKey& k : r.keys) keys.push_back(ServedKeyToJson(k));
  json j{{"attestation_public_key", HexEncode(r.attestation_public_key)},
         {"audit", json{{"root", HexEncode(r.audit.root)}, {"size", r.audit.size}}},
         {"audit_public_key", HexEncode(r.audit_public_key)},
         {"config_hash", HexEncode(r.config_hash)},
         {"debug", r.debug},
         {"keys", std::move(keys)},
         {"measurement", HexEncode(r.measurement)},
         {"nonce", HexEncode(r.nonce)},
         {"platform", r.platform},
         {"policy_hash", HexEncode(r.policy_hash)},
         {"security_version", r.security_version},
         {"sigil_version", r.sigil_version},
         {"time", r.time_ms},
         {"version", r.version}};
  if (r.tpm_quote) j["tpm_quote"] = TpmQuoteToJson(*r.tpm_quote);
  return j;
}

// Dumping never throws: strings of a valid report are plain ASCII, and
// anything else is replaced rather than raising.
std::string Dump(const json& j, int indent) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }

}  // namespace

absl::Status ValidateReport(const AttestationReport& r) {
  if (r.version != kReportFormatVersion) {
    return Invalid("version", "must be " + std::to_string(kReportFormatVersion));
  }
  if (r.nonce.size() < kMinNonceBytes || r.nonce.size() > kMaxNonceBytes) {
    return Invalid("nonce", "must be " + std::to_string(kMinNonceBytes) + ".." + std::to_string(kMaxNonceBytes) +
                                " bytes, got " + std::to_string(r.nonce.size()));
  }
  if (r.platform == kPlatformSoftware) {
    if (r.tpm_quote) return Invalid("tpm_quote", "is not allowed on platform \"software\"");
  } else if (r.platform == kPlatformTpm2) {
    if (!r.tpm_quote) return Invalid("tpm_quote", "is required on platform \"tpm2\"");
    RETURN_IF_ERROR(ValidateTpmQuote(*r.tpm_quote));
  } else {
    return Invalid("platform", "must be \"software\" or \"tpm2\"");
  }
  if (r.keys.size() > kMaxReportKeys) return Invalid("keys", "at most " + std::to_string(kMaxReportKeys) + " keys");
  for (size_t i = 0; i < r.keys.size(); ++i) {
    RETURN_IF_ERROR(ValidateServedKey(r.keys[i], "keys[" + std::to_string(i) + "]"));
  }
  if (!IsVersionString(r.sigil_version)) {
    return Invalid("sigil_version", "must be 1..64 characters from [A-Za-z0-9.+_-]");
  }
  return absl::OkStatus();
}

json AttestationReport::ToJson() const {
  json j = UnsignedJson(*this);
  j["signature"] = HexEncode(signature);
  return j;
}

absl::StatusOr<AttestationReport> AttestationReport::FromJson(const json& j) {
  if (!j.is_object()) return Invalid("report", "must be a JSON object");
  // The version decides what the rest means, so it is read first.
  if (!j.contains("version")) return Invalid("report", "missing field \"version\"");
  ASSIGN_OR_RETURN(uint64_t version, ParseUint(j["version"], "version", UINT32_MAX));
  if (version != kReportFormatVersion) {
    return absl::FailedPreconditionError("attestation report: format version " + std::to_string(version) +
                                         " is not supported (this verifier reads version " +
                                         std::to_string(kReportFormatVersion) + ")");
  }
  RETURN_IF_ERROR(CheckKeys(j, "report",
                            {"attestation_public_key", "audit", "audit_public_key", "config_hash", "debug", "keys",
                             "measurement", "nonce", "platform", "policy_hash", "security_version", "signature",
                             "sigil_version", "time", "version"},
                            {"tpm_quote"}));
  AttestationReport r;
  r.version = static_cast<uint32_t>(version);
  ASSIGN_OR_RETURN(r.attestation_public_key, ParseFixedHex<32>(j["attestation_public_key"], "attestation_public_key"));
  const json& audit = j["audit"];
  RETURN_IF_ERROR(CheckKeys(audit, "audit", {"root", "size"}));
  ASSIGN_OR_RETURN(r.audit.root, ParseFixedHex<32>(audit["root"], "audit.root"));
  ASSIGN_OR_RETURN(r.audit.size, ParseUint(audit["size"], "audit.size", UINT64_MAX));
  ASSIGN_OR_RETURN(r.audit_public_key, ParseFixedHex<32>(j["audit_public_key"], "audit_public_key"));
  ASSIGN_OR_RETURN(r.config_hash, ParseFixedHex<32>(j["config_hash"], "config_hash"));
  if (!j["debug"].is_boolean()) return Invalid("debug", "must be true or false");
  r.debug = j["debug"].get<bool>();
  const json& keys = j["keys"];
  if (!keys.is_array()) return Invalid("keys", "must be an array");
  if (keys.size() > kMaxReportKeys) return Invalid("keys", "at most " + std::to_string(kMaxReportKeys) + " keys");
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSIGN_OR_RETURN(ServedKey key, ParseServedKey(keys[i], "keys[" + std::to_string(i) + "]"));
    r.keys.push_back(std::move(key));
  }
  ASSIGN_OR_RETURN(r.measurement, ParseFixedHex<32>(j["measurement"], "measurement"));
  ASSIGN_OR_RETURN(r.nonce, ParseHex(j["nonce"], "nonce", kMaxNonceBytes));
  ASSIGN_OR_RETURN(r.platform, ParseString(j["platform"], "platform"));
  ASSIGN_OR_RETURN(r.policy_hash, ParseFixedHex<32>(j["policy_hash"], "policy_hash"));
  ASSIGN_OR_RETURN(uint64_t security_version, ParseUint(j["security_version"], "security_version", UINT32_MAX));
  r.security_version = static_cast<uint32_t>(security_version);
  ASSIGN_OR_RETURN(r.signature, ParseFixedHex<64>(j["signature"], "signature"));
  ASSIGN_OR_RETURN(r.sigil_version, ParseString(j["sigil_version"], "sigil_version"));
  ASSIGN_OR_RETURN(r.time_ms, ParseUint(j["time"], "time", UINT64_MAX));
  if (j.contains("tpm_quote")) {
    ASSIGN_OR_RETURN(TpmQuote quote, ParseTpmQuote(j["tpm_quote"]));
    r.tpm_quote = std::move(quote);
  }
  RETURN_IF_ERROR(ValidateReport(r));
  return r;
}

std::string CanonicalReportBytes(const AttestationReport& report) {
  return std::string(kReportDomain) + "\n" + Dump(UnsignedJson(report), -1);
}

crypto::Hash256 TpmQuoteQualifyingData(const AttestationReport& report) {
  json j = UnsignedJson(report);
  j.erase("tpm_quote");
  const std::string bytes = std::string(kTpmQuoteDomain) + "\n" + Dump(j, -1);
  return crypto::Sha256(AsBytes(bytes));
}

absl::StatusOr<AttestationReport> ParseReport(std::string_view text) {
  if (text.size() > kMaxReportBytes) {
    return Invalid("report", "is " + std::to_string(text.size()) + " bytes; the limit is " +
                                 std::to_string(kMaxReportBytes));
  }
  RETURN_IF_ERROR(CheckJsonBounds(text, JsonBounds{kMaxReportBytes, 8}));
  // nlohmann keeps the last of duplicate keys; a report must not have two
  // readings, so duplicates are refused.
  JsonParsed<json> parsed = ParseNotingDuplicates(text);
  const json& j = parsed.doc;
  if (j.is_discarded()) return Invalid("report", "is not valid JSON");
  if (!parsed.duplicates.empty()) return Invalid("report", "has a duplicate field");
  return AttestationReport::FromJson(j);
}

std::string SerializeReport(const AttestationReport& report) { return Dump(report.ToJson(), 2) + "\n"; }

bool VerifyReportSignature(const AttestationReport& report, const crypto::Ed25519PublicKey& key) {
  const std::string message = CanonicalReportBytes(report);
  return crypto::Ed25519Verify(key, AsBytes(message), report.signature);
}

}  // namespace sigil::attest
