#include "keystore/key_info.h"

#include <array>
#include <string>

#include "crypto/random.h"

namespace sigil::keystore {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

constexpr std::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";
constexpr size_t kIdRandomChars = 26;  // 130 bits, from 16 random bytes (128 bits)

std::string Quoted(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('\'');
  out.append(name);
  out.push_back('\'');
  return out;
}

}  // namespace

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kSecp256k1:
      return "secp256k1";
    case KeyType::kSchnorr:
      return "schnorr";
    case KeyType::kEd25519:
      return "ed25519";
  }
  return "unknown";
}

std::string_view KeyPurposeName(KeyPurpose purpose) {
  switch (purpose) {
    case KeyPurpose::kSigning:
      return "signing";
    case KeyPurpose::kAudit:
      return "audit";
    case KeyPurpose::kAttestation:
      return "attestation";
    case KeyPurpose::kEncryption:
      return "encryption";
  }
  return "unknown";
}

std::string_view KeyStatusName(KeyStatus status) {
  switch (status) {
    case KeyStatus::kActive:
      return "active";
    case KeyStatus::kRetired:
      return "retired";
    case KeyStatus::kArchived:
      return "archived";
  }
  return "unknown";
}

absl::StatusOr<KeyType> ParseKeyType(std::string_view name) {
  for (KeyType t : {KeyType::kSecp256k1, KeyType::kSchnorr, KeyType::kEd25519}) {
    if (name == KeyTypeName(t)) return t;
  }
  return absl::InvalidArgumentError("unknown key type " + Quoted(name.substr(0, 32)) +
                                    "; expected secp256k1, schnorr or ed25519");
}

absl::StatusOr<KeyPurpose> ParseKeyPurpose(std::string_view name) {
  for (KeyPurpose p : {KeyPurpose::kSigning, KeyPurpose::kAudit, KeyPurpose::kAttestation, KeyPurpose::kEncryption}) {
    if (name == KeyPurposeName(p)) return p;
  }
  return absl::InvalidArgumentError("unknown key purpose " + Quoted(name.substr(0, 32)) +
                                    "; expected signing, audit, attestation or encryption");
}

absl::StatusOr<KeyStatus> ParseKeyStatus(std::string_view name) {
  for (KeyStatus s : {KeyStatus::kActive, KeyStatus::kRetired, KeyStatus::kArchived}) {
    if (name == KeyStatusName(s)) return s;
  }
  return absl::InvalidArgumentError("unknown key status " + Quoted(name.substr(0, 32)) +
                                    "; expected active, retired or archived");
}

size_t PublicKeySize(KeyType type) { return type == KeyType::kSecp256k1 ? 65 : 32; }

absl::Status ValidateKeyName(std::string_view name) {
  if (name.empty() || name.size() > kMaxKeyNameSize) {
    return absl::InvalidArgumentError("key name must be 1 to " + std::to_string(kMaxKeyNameSize) +
                                      " characters, got " + std::to_string(name.size()));
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return absl::InvalidArgumentError("key name may contain only letters, digits, '.', '_' and '-'");
    }
  }
  if (name[0] == '.' || name[0] == '_' || name[0] == '-') {
    return absl::InvalidArgumentError("key name " + Quoted(name) + " must start with a letter or a digit");
  }
  if (name.substr(0, kKeyIdPrefix.size()) == kKeyIdPrefix) {
    return absl::InvalidArgumentError("key name " + Quoted(name) + " starts with '" + std::string(kKeyIdPrefix) +
                                      "', which is reserved for key ids; choose another name");
  }
  if (name.size() >= 2 && name[0] == '0' && (name[1] == 'x' || name[1] == 'X')) {
    return absl::InvalidArgumentError("key name " + Quoted(name) +
                                      " starts with '0x' and could be mistaken for an address; choose another name");
  }
  return absl::OkStatus();
}

bool LooksLikeKeyId(std::string_view text) {
  if (text.size() != kKeyIdPrefix.size() + kIdRandomChars) return false;
  if (text.substr(0, kKeyIdPrefix.size()) != kKeyIdPrefix) return false;
  for (char c : text.substr(kKeyIdPrefix.size())) {
    if (kBase32.find(c) == std::string_view::npos) return false;
  }
  return true;
}

std::string NewKeyId() {
  std::array<uint8_t, 17> random{};  // 16 used; one spare byte keeps the bit reader in bounds
  crypto::RandomBytes(std::span<uint8_t>(random.data(), 16));
  std::string id(kKeyIdPrefix);
  uint32_t buffer = 0;
  int bits = 0;
  size_t next = 0;
  while (id.size() < kKeyIdPrefix.size() + kIdRandomChars) {
    if (bits < 5) {
      buffer = (buffer << 8) | random[next++];
      bits += 8;
    }
    id.push_back(kBase32[(buffer >> (bits - 5)) & 31]);
    bits -= 5;
  }
  return id;
}

absl::Status CheckKeyUsable(const KeyInfo& key, KeyType type, KeyPurpose purpose) {
  std::string who = "key " + Quoted(key.name) + " (id " + key.id + ", version " + std::to_string(key.version) + ")";
  if (key.status != KeyStatus::kActive) {
    return absl::FailedPreconditionError(who + " is " + std::string(KeyStatusName(key.status)) +
                                         " and can no longer sign" +
                                         (key.status == KeyStatus::kRetired ? "; it remains valid for verification"
                                                                            : ""));
  }
  if (key.type != type) {
    return absl::InvalidArgumentError(who + " is a " + std::string(KeyTypeName(key.type)) +
                                      " key and cannot make a " + std::string(KeyTypeName(type)) + " signature");
  }
  if (key.purpose != purpose) {
    return absl::PermissionDeniedError(who + " has purpose " + std::string(KeyPurposeName(key.purpose)) +
                                       " and cannot be used for " + std::string(KeyPurposeName(purpose)));
  }
  return absl::OkStatus();
}

}  // namespace sigil::keystore
