#include "keystore/sealed_record.h"

#include <algorithm>
#include <string>

#include "base/hex.h"
#include "base/status.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "keystore/binary_codec.h"
#include "keystore/key_info_codec.h"
#include "keystore/key_material.h"

namespace sigil::keystore {
namespace {

constexpr std::string_view kSealDomain = "sigil-keystore-seal-v1";
constexpr std::string_view kCheckDomain = "sigil-keystore-check-v1";
constexpr std::string_view kCheckPlaintext = "sigil keystore master key check v1";
constexpr std::string_view kSealInfo = "sigil/keystore/v1/seal";
constexpr std::string_view kMacInfo = "sigil/keystore/v1/record-mac";
constexpr std::string_view kCheckInfo = "sigil/keystore/v1/check";

// Length-prefixed field of the associated data: u32 big-endian length, then
// the bytes. Framing every field keeps two different keys' AD distinct.
void AppendField(std::vector<uint8_t>& out, std::span<const uint8_t> field) {
  uint32_t n = static_cast<uint32_t>(field.size());
  out.push_back(static_cast<uint8_t>(n >> 24));
  out.push_back(static_cast<uint8_t>(n >> 16));
  out.push_back(static_cast<uint8_t>(n >> 8));
  out.push_back(static_cast<uint8_t>(n));
  out.insert(out.end(), field.begin(), field.end());
}

void AppendField(std::vector<uint8_t>& out, std::string_view field) { AppendField(out, AsBytes(field)); }

absl::Status Corrupt(std::string_view who, const std::string& why) {
  return absl::DataLossError("sealed record for " + std::string(who) + " is corrupt: " + why +
                             "; restore the keystore from a backup");
}

}  // namespace

std::string DescribeKey(std::string_view name, std::string_view id, uint32_t version) {
  return "key '" + std::string(name) + "' (id " + std::string(id) + ", version " + std::to_string(version) + ")";
}

namespace {

constexpr std::array<uint8_t, 4> kRecordMagic = {'S', 'G', 'K', 'R'};

// Everything but the MAC, in the documented order.
void WriteBody(BinaryWriter& w, const SealedKeyRecord& record) {
  w.Raw(kRecordMagic);
  w.U16(kSealedKeyRecordFormatVersion);
  WriteKeyInfo(w, record.info);
  w.Bytes8(record.sealed_private_key);
}

}  // namespace

std::vector<uint8_t> EncodeSealedKeyRecord(const SealedKeyRecord& record) {
  BinaryWriter counter;
  WriteBody(counter, record);
  std::vector<uint8_t> out(counter.size() + record.mac.size());
  BinaryWriter w(out);
  WriteBody(w, record);
  w.Raw(record.mac);
  return out;
}

std::vector<uint8_t> RecordMacInput(const SealedKeyRecord& record) {
  BinaryWriter counter;
  WriteBody(counter, record);
  std::vector<uint8_t> out(counter.size());
  BinaryWriter w(out);
  WriteBody(w, record);
  return out;
}

absl::StatusOr<SealedKeyRecord> DecodeSealedKeyRecord(std::span<const uint8_t> bytes, std::string_view who) {
  if (bytes.size() > kMaxSealedKeyRecordSize) {
    return Corrupt(who, "it is " + std::to_string(bytes.size()) + " bytes, more than any valid record");
  }
  BinaryReader r(bytes);
  std::span<const uint8_t> magic;
  if (!r.Raw(kRecordMagic.size(), &magic) || !std::equal(magic.begin(), magic.end(), kRecordMagic.begin())) {
    return Corrupt(who, "it does not start with the key record magic (truncated, or not a Sigil key record)");
  }
  uint16_t format = 0;
  if (!r.U16(&format)) return Corrupt(who, "it is truncated");
  if (format != kSealedKeyRecordFormatVersion) {
    return absl::FailedPreconditionError("sealed record for " + std::string(who) + " has format version " +
                                         std::to_string(format) + ", which this Sigil does not read (it reads " +
                                         std::to_string(kSealedKeyRecordFormatVersion) +
                                         "); upgrade Sigil, or restore the keystore from a backup if the record "
                                         "was altered");
  }
  SealedKeyRecord record;
  std::string why;
  if (!ReadKeyInfo(r, &record.info, &why)) return Corrupt(who, why);
  std::span<const uint8_t> sealed, mac;
  if (!r.Bytes8(&sealed) || !r.Raw(record.mac.size(), &mac)) return Corrupt(who, "it is truncated");
  if (!r.AtEnd()) return Corrupt(who, "it has " + std::to_string(r.remaining()) + " trailing bytes");
  record.sealed_private_key.assign(sealed.begin(), sealed.end());
  std::copy(mac.begin(), mac.end(), record.mac.begin());
  return record;
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
