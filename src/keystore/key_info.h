// KeyInfo: the public description of one version of one key, and the enums
// that classify keys. Plain values: copyable, safe to share between threads.
// No field of KeyInfo is secret.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sigil::keystore {

// Which signature scheme a key serves. One key, one scheme: a secp256k1 key
// made for ECDSA never produces a Schnorr signature and vice versa.
enum class KeyType {
  kSecp256k1,  // ECDSA over secp256k1 (Ethereum); public key 65 bytes 0x04||X||Y
  kSchnorr,    // BIP-340 Schnorr over secp256k1 (Nostr); public key 32 bytes x-only
  kEd25519,    // Ed25519 (Solana); public key 32 bytes
};

// What a key is for. A signing call states the purpose it signs for, and a
// key refuses any other: an audit key cannot sign a transaction.
enum class KeyPurpose {
  kSigning,      // agents' transactions and messages
  kAudit,        // audit log checkpoints
  kAttestation,  // attestation reports
  kEncryption,   // reserved for keys that protect data (not used to sign)
};

enum class KeyStatus {
  kActive,    // the current version: signs
  kRetired,   // replaced by a newer version: verify-only, never signs again
  kArchived,  // taken out of service with all its versions: never signs
};

// Stable lower-case names used in records, backups, the CLI and the API.
std::string_view KeyTypeName(KeyType type);          // "secp256k1", "schnorr", "ed25519"
std::string_view KeyPurposeName(KeyPurpose purpose);  // "signing", "audit", "attestation", "encryption"
std::string_view KeyStatusName(KeyStatus status);     // "active", "retired", "archived"
absl::StatusOr<KeyType> ParseKeyType(std::string_view name);
absl::StatusOr<KeyPurpose> ParseKeyPurpose(std::string_view name);
absl::StatusOr<KeyStatus> ParseKeyStatus(std::string_view name);

// Size of the public key for a type (65, 32, 32).
size_t PublicKeySize(KeyType type);

struct KeyInfo {
  std::string id;        // stable random id, "key_" + 26 base32 characters; the same for every version
  std::string name;      // unique, chosen by the operator (see ValidateKeyName)
  KeyType type = KeyType::kSecp256k1;
  KeyPurpose purpose = KeyPurpose::kSigning;
  std::string backend;   // "software", "pkcs11", ...
  uint32_t version = 1;  // 1 for a new key, +1 at each rotation
  KeyStatus status = KeyStatus::kActive;
  absl::Time created_at = absl::UnixEpoch();
  std::optional<absl::Time> retired_at;  // set when retired or archived
  std::vector<uint8_t> public_key;       // see KeyType for the encoding
  // Non-empty when the backend refuses to sign with this version, and why
  // (a PKCS#11 key that became extractable). Not stored: the backend sets it
  // when it lists or gets the key.
  std::string refused;

  friend bool operator==(const KeyInfo&, const KeyInfo&) = default;
};

inline constexpr size_t kMaxKeyNameSize = 64;
inline constexpr std::string_view kKeyIdPrefix = "key_";

// A key name is 1..64 characters from [A-Za-z0-9._-], starting with a letter
// or digit. Names that could be mistaken for an id ("key_...") or an address
// or public key ("0x...") are refused. InvalidArgument otherwise.
absl::Status ValidateKeyName(std::string_view name);
// True if `text` has the shape of a key id.
bool LooksLikeKeyId(std::string_view text);
// A fresh random key id.
std::string NewKeyId();

// The checks every backend applies before signing with `key` on behalf of a
// caller that wants scheme `type` for `purpose`:
//  * FailedPrecondition if the key is retired or archived;
//  * InvalidArgument if the key's type is not `type`;
//  * PermissionDenied if the key's purpose is not `purpose`.
// Messages name the key.
absl::Status CheckKeyUsable(const KeyInfo& key, KeyType type, KeyPurpose purpose);

}  // namespace sigil::keystore
