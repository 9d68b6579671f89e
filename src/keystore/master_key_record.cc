#include "keystore/master_key_record.h"

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "base/json_bounds.h"

namespace sigil::keystore {
namespace {

using Json = nlohmann::ordered_json;
constexpr std::string_view kFormat = "sigil.keystore.master";

absl::Status Corrupt(const std::string& why) {
  return absl::DataLossError("the keystore's master key record is corrupt: " + why +
                             "; restore the data directory from a backup");
}

}  // namespace

std::string EncodeMasterKeyRecord(const MasterKeyRecord& record) {
  Json j;
  j["format"] = kFormat;
  j["format_version"] = kMasterKeyRecordFormatVersion;
  if (record.source == MasterKeySource::kPassphrase) {
    j["source"] = "passphrase";
    j["kdf"] = Json{{"algorithm", "argon2id"},
                    {"ops_limit", record.argon2.ops_limit},
                    {"mem_limit", record.argon2.mem_limit},
                    {"salt", HexEncode(record.salt)}};
  } else {
    j["source"] = "external";
  }
  j["check"] = HexEncode(record.check_value);
  return j.dump();
}

absl::StatusOr<MasterKeyRecord> DecodeMasterKeyRecord(std::span<const uint8_t> bytes) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (!CheckJsonBounds(text, JsonBounds{4096, 4}).ok()) return Corrupt("it is too large or too deeply nested");
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Corrupt("it is not a JSON object");
  if (!j.contains("format") || j["format"] != kFormat) return Corrupt("it is not a Sigil master key record");
  if (!j.contains("format_version") || !j["format_version"].is_number_integer()) {
    return Corrupt("format_version is missing");
  }
  if (j["format_version"].get<int64_t>() != kMasterKeyRecordFormatVersion) {
    return absl::FailedPreconditionError("the keystore's master key record has format version " +
                                         j["format_version"].dump() + ", which this Sigil does not read; upgrade Sigil");
  }
  MasterKeyRecord record;
  if (!j.contains("source") || !j["source"].is_string()) return Corrupt("source is missing");
  std::string source = j["source"].get<std::string>();
  if (source == "passphrase") {
    record.source = MasterKeySource::kPassphrase;
    if (!j.contains("kdf") || !j["kdf"].is_object()) return Corrupt("kdf is missing");
    const Json& kdf = j["kdf"];
    if (!kdf.contains("algorithm") || kdf["algorithm"] != "argon2id") return Corrupt("kdf.algorithm is not argon2id");
    if (!kdf.contains("ops_limit") || !kdf["ops_limit"].is_number_unsigned() || !kdf.contains("mem_limit") ||
        !kdf["mem_limit"].is_number_unsigned()) {
      return Corrupt("kdf.ops_limit or kdf.mem_limit is missing");
    }
    record.argon2.ops_limit = kdf["ops_limit"].get<uint64_t>();
    record.argon2.mem_limit = kdf["mem_limit"].get<uint64_t>();
    if (!kdf.contains("salt") || !kdf["salt"].is_string()) return Corrupt("kdf.salt is missing");
    auto salt = HexDecode(kdf["salt"].get<std::string>());
    if (!salt.ok() || salt->size() != record.salt.size()) return Corrupt("kdf.salt is not 16 bytes of hex");
    std::copy(salt->begin(), salt->end(), record.salt.begin());
  } else if (source == "external") {
    record.source = MasterKeySource::kExternal;
  } else {
    return Corrupt("source is neither 'passphrase' nor 'external'");
  }
  if (!j.contains("check") || !j["check"].is_string()) return Corrupt("check is missing");
  auto check = HexDecode(j["check"].get<std::string>());
  if (!check.ok()) return Corrupt("check is not hex");
  record.check_value = std::move(check).value();
  return record;
}

}  // namespace sigil::keystore
