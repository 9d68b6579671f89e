#include "keystore/sealed_record.h"

#include <nlohmann/json.hpp>

#include <set>
#include <string>

#include "base/hex.h"
#include "base/json_bounds.h"
#include "base/status.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "keystore/key_material.h"

namespace sigil::keystore {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kRecordFormat = "sigil.keystore.key";
constexpr std::string_view kMacDomain = "sigil-keystore-record-v1";
constexpr std::string_view kSealDomain = "sigil-keystore-seal-v1";
constexpr std::string_view kCheckDomain = "sigil-keystore-check-v1";
constexpr std::string_view kCheckPlaintext = "sigil keystore master key check v1";
constexpr std::string_view kSealInfo = "sigil/keystore/v1/seal";
constexpr std::string_view kMacInfo = "sigil/keystore/v1/record-mac";
constexpr std::string_view kCheckInfo = "sigil/keystore/v1/check";

// Length-prefixed field: u32 big-endian length, then the bytes. Every field
// is framed, so no two different records share a MAC input.
void AppendField(std::vector<uint8_t>& out, std::span<const uint8_t> field) {
  uint32_t n = static_cast<uint32_t>(field.size());
  out.push_back(static_cast<uint8_t>(n >> 24));
  out.push_back(static_cast<uint8_t>(n >> 16));
  out.push_back(static_cast<uint8_t>(n >> 8));
  out.push_back(static_cast<uint8_t>(n));
  out.insert(out.end(), field.begin(), field.end());
}

void AppendField(std::vector<uint8_t>& out, std::string_view field) { AppendField(out, AsBytes(field)); }

std::string RetiredAtText(const KeyInfo& info) {
  return info.retired_at.has_value() ? std::to_string(absl::ToUnixSeconds(*info.retired_at)) : std::string();
}

absl::Status Corrupt(std::string_view who, const std::string& why) {
  return absl::DataLossError("sealed record for " + std::string(who) + " is corrupt: " + why +
                             "; restore the keystore from a backup");
}

}  // namespace

std::string DescribeKey(std::string_view name, std::string_view id, uint32_t version) {
  return "key '" + std::string(name) + "' (id " + std::string(id) + ", version " + std::to_string(version) + ")";
}

std::string EncodeSealedKeyRecord(const SealedKeyRecord& record) {
  const KeyInfo& info = record.info;
  Json j;
  j["format"] = kRecordFormat;
  j["format_version"] = kSealedKeyRecordFormatVersion;
  j["id"] = info.id;
  j["name"] = info.name;
  j["version"] = info.version;
  j["type"] = KeyTypeName(info.type);
  j["purpose"] = KeyPurposeName(info.purpose);
  j["backend"] = info.backend;
  j["status"] = KeyStatusName(info.status);
  j["created_at"] = absl::ToUnixSeconds(info.created_at);
  if (info.retired_at.has_value()) {
    j["retired_at"] = absl::ToUnixSeconds(*info.retired_at);
  } else {
    j["retired_at"] = nullptr;
  }
  j["public_key"] = HexEncode(info.public_key);
  j["sealed_private_key"] = HexEncode(record.sealed_private_key);
  j["mac"] = HexEncode(record.mac);
  return j.dump();
}

absl::StatusOr<SealedKeyRecord> DecodeSealedKeyRecord(std::span<const uint8_t> bytes, std::string_view who) {
  if (bytes.size() > kMaxSealedKeyRecordSize) {
    return Corrupt(who, "it is " + std::to_string(bytes.size()) + " bytes, more than any valid record");
  }
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (absl::Status st = CheckJsonBounds(text, JsonBounds{kMaxSealedKeyRecordSize, 4}); !st.ok()) {
    return Corrupt(who, "it is nested too deeply");
  }
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Corrupt(who, "it is not a JSON object (truncated?)");

  static const std::set<std::string> kFields = {"format",     "format_version", "id",         "name",
                                                "version",    "type",           "purpose",    "backend",
                                                "status",     "created_at",     "retired_at", "public_key",
                                                "sealed_private_key", "mac"};
  for (const auto& [field, value] : j.items()) {
    if (!kFields.count(field)) return Corrupt(who, "it has an unknown field '" + field.substr(0, 32) + "'");
  }
  for (const std::string& field : kFields) {
    if (!j.contains(field)) return Corrupt(who, "the field '" + field + "' is missing");
  }
  auto string_field = [&](const char* name, std::string* out) -> absl::Status {
    if (!j[name].is_string()) return Corrupt(who, std::string("'") + name + "' is not a string");
    *out = j[name].get<std::string>();
    return absl::OkStatus();
  };
  auto int_field = [&](const char* name, int64_t* out) -> absl::Status {
    if (!j[name].is_number_integer()) return Corrupt(who, std::string("'") + name + "' is not an integer");
    *out = j[name].get<int64_t>();
    return absl::OkStatus();
  };
  auto hex_field = [&](const char* name, std::vector<uint8_t>* out) -> absl::Status {
    std::string text;
    RETURN_IF_ERROR(string_field(name, &text));
    auto decoded = HexDecode(text);
    if (!decoded.ok()) return Corrupt(who, std::string("'") + name + "' is not hex");
    *out = std::move(decoded).value();
    return absl::OkStatus();
  };

  std::string format;
  RETURN_IF_ERROR(string_field("format", &format));
  if (format != kRecordFormat) return Corrupt(who, "it is not a Sigil key record");
  int64_t format_version = 0;
  RETURN_IF_ERROR(int_field("format_version", &format_version));
  if (format_version != kSealedKeyRecordFormatVersion) {
    return absl::FailedPreconditionError("sealed record for " + std::string(who) + " has format version " +
                                         std::to_string(format_version) + ", which this Sigil does not read (it reads " +
                                         std::to_string(kSealedKeyRecordFormatVersion) + "); upgrade Sigil");
  }

  SealedKeyRecord record;
  KeyInfo& info = record.info;
  RETURN_IF_ERROR(string_field("id", &info.id));
  RETURN_IF_ERROR(string_field("name", &info.name));
  int64_t version = 0;
  RETURN_IF_ERROR(int_field("version", &version));
  if (version < 1 || version > UINT32_MAX) return Corrupt(who, "'version' is out of range");
  info.version = static_cast<uint32_t>(version);
  std::string text_value;
  RETURN_IF_ERROR(string_field("type", &text_value));
  auto type = ParseKeyType(text_value);
  if (!type.ok()) return Corrupt(who, "'type' is not a known key type");
  info.type = *type;
  RETURN_IF_ERROR(string_field("purpose", &text_value));
  auto purpose = ParseKeyPurpose(text_value);
  if (!purpose.ok()) return Corrupt(who, "'purpose' is not a known key purpose");
  info.purpose = *purpose;
  RETURN_IF_ERROR(string_field("backend", &info.backend));
  RETURN_IF_ERROR(string_field("status", &text_value));
  auto status = ParseKeyStatus(text_value);
  if (!status.ok()) return Corrupt(who, "'status' is not a known key status");
  info.status = *status;
  int64_t created_at = 0;
  RETURN_IF_ERROR(int_field("created_at", &created_at));
  info.created_at = absl::FromUnixSeconds(created_at);
  if (!j["retired_at"].is_null()) {
    int64_t retired_at = 0;
    RETURN_IF_ERROR(int_field("retired_at", &retired_at));
    info.retired_at = absl::FromUnixSeconds(retired_at);
  }
  RETURN_IF_ERROR(hex_field("public_key", &info.public_key));
  if (info.public_key.size() != PublicKeySize(info.type)) {
    return Corrupt(who, "'public_key' has the wrong length for a " + std::string(KeyTypeName(info.type)) + " key");
  }
  RETURN_IF_ERROR(hex_field("sealed_private_key", &record.sealed_private_key));
  std::vector<uint8_t> mac;
  RETURN_IF_ERROR(hex_field("mac", &mac));
  if (mac.size() != record.mac.size()) return Corrupt(who, "'mac' is not 32 bytes");
  std::copy(mac.begin(), mac.end(), record.mac.begin());
  return record;
}

std::vector<uint8_t> RecordMacInput(const SealedKeyRecord& record) {
  const KeyInfo& info = record.info;
  std::vector<uint8_t> out;
  out.reserve(256 + info.public_key.size() + record.sealed_private_key.size());
  AppendField(out, kMacDomain);
  AppendField(out, info.id);
  AppendField(out, info.name);
  AppendField(out, std::to_string(info.version));
  AppendField(out, KeyTypeName(info.type));
  AppendField(out, KeyPurposeName(info.purpose));
  AppendField(out, info.backend);
  AppendField(out, KeyStatusName(info.status));
  AppendField(out, std::to_string(absl::ToUnixSeconds(info.created_at)));
  AppendField(out, RetiredAtText(info));
  AppendField(out, info.public_key);
  AppendField(out, record.sealed_private_key);
  return out;
}

std::vector<uint8_t> SealAssociatedData(const KeyInfo& info) {
  std::vector<uint8_t> out;
  AppendField(out, kSealDomain);
  AppendField(out, info.id);
  AppendField(out, std::to_string(info.version));
  AppendField(out, KeyTypeName(info.type));
  AppendField(out, KeyPurposeName(info.purpose));
  AppendField(out, info.public_key);
  return out;
}

absl::StatusOr<std::unique_ptr<RecordSealer>> RecordSealer::Create(SecretBytes master_key) {
  if (master_key.size() != 32) {
    return absl::InvalidArgumentError("the keystore master key must be 32 bytes, got " +
                                      std::to_string(master_key.size()));
  }
  ASSIGN_OR_RETURN(SecretBytes mac_key, crypto::HkdfSha256(master_key, {}, kMacInfo, 32));
  ASSIGN_OR_RETURN(SecretBytes check_key, crypto::HkdfSha256(master_key, {}, kCheckInfo, 32));
  return std::unique_ptr<RecordSealer>(
      new RecordSealer(std::move(master_key), std::move(mac_key), std::move(check_key)));
}

absl::StatusOr<SecretBytes> RecordSealer::SealKeyFor(std::string_view key_id) const {
  return crypto::HkdfSha256(master_, AsBytes(key_id), kSealInfo, crypto::kAeadKeySize);
}

std::array<uint8_t, 32> RecordSealer::Mac(const SealedKeyRecord& record) const {
  return crypto::HmacSha256(mac_key_.Reveal(SecretAccess::Get()), RecordMacInput(record));
}

absl::StatusOr<SealedKeyRecord> RecordSealer::Seal(const KeyInfo& info, const SecretBytes& private_key) const {
  ASSIGN_OR_RETURN(std::vector<uint8_t> derived, DerivePublicKey(info.type, private_key));
  if (derived != info.public_key) {
    return absl::InvalidArgumentError("the private key for " + DescribeKey(info.name, info.id, info.version) +
                                      " does not match its public key");
  }
  ASSIGN_OR_RETURN(SecretBytes seal_key, SealKeyFor(info.id));
  SealedKeyRecord record;
  record.info = info;
  ASSIGN_OR_RETURN(record.sealed_private_key,
                   crypto::AeadSeal(seal_key, private_key.Reveal(SecretAccess::Get()), SealAssociatedData(info)));
  record.mac = Mac(record);
  return record;
}

absl::Status RecordSealer::UpdateMac(SealedKeyRecord& record) const {
  record.mac = Mac(record);
  return absl::OkStatus();
}

absl::Status RecordSealer::Verify(const SealedKeyRecord& record, std::string_view who) const {
  std::array<uint8_t, 32> expected = Mac(record);
  if (!ConstantTimeEquals(expected, record.mac)) {
    return absl::DataLossError("sealed record for " + std::string(who) +
                               " failed authentication: it was altered, swapped with another record, or sealed "
                               "under a different master key; restore the keystore from a backup");
  }
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> RecordSealer::Unseal(const SealedKeyRecord& record, std::string_view who) const {
  RETURN_IF_ERROR(Verify(record, who));
  ASSIGN_OR_RETURN(SecretBytes seal_key, SealKeyFor(record.info.id));
  auto opened = crypto::AeadOpen(seal_key, record.sealed_private_key, SealAssociatedData(record.info));
  if (!opened.ok()) {
    return absl::DataLossError("sealed record for " + std::string(who) +
                               " failed authentication: the sealed private key does not open under this key's id, "
                               "version, type and purpose");
  }
  auto derived = DerivePublicKey(record.info.type, *opened);
  if (!derived.ok() || *derived != record.info.public_key) {
    return absl::DataLossError("sealed record for " + std::string(who) +
                               " failed authentication: the private key does not match the recorded public key");
  }
  return std::move(opened).value();
}

absl::StatusOr<std::vector<uint8_t>> RecordSealer::MakeCheckValue() const {
  return crypto::AeadSeal(check_key_, AsBytes(kCheckPlaintext), AsBytes(kCheckDomain));
}

bool RecordSealer::CheckValueOpens(std::span<const uint8_t> check_value) const {
  auto opened = crypto::AeadOpen(check_key_, check_value, AsBytes(kCheckDomain));
  return opened.ok() && opened->RevealText(SecretAccess::Get()) == kCheckPlaintext;
}

}  // namespace sigil::keystore
