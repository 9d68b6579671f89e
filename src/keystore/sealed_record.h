// The sealed key record: how the software keystore stores one version of one
// key at rest, and RecordSealer, which seals, authenticates and opens it
// under the keystore's master key. The byte format is specified in
// doc/keystore.md (format_version 1); keep the two in step.
//
// Security properties:
//  * The private key is encrypted with XChaCha20-Poly1305 under a per-key
//    subkey HKDF-SHA256(master, salt = key id, info "sigil/keystore/v1/seal"),
//    with associated data binding the key id, version, type, purpose and
//    public key: a sealed key moved into another record does not open.
//  * Every byte of the record (including status and retired_at, which
//    change over the key's life, and the public key, which is shown to users
//    without unsealing anything) is covered by an HMAC-SHA256 under
//    HKDF(master, info "sigil/keystore/v1/record-mac"), so a tampered address
//    or a retired key turned active again is detected without unsealing.
//  * Unseal also checks that the private key derives the recorded public key.
//  * Errors name the key (`who`) and never contain key bytes.
//
// Thread-safety: SealedKeyRecord is a plain value. RecordSealer is immutable
// after Create and safe to share between threads.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/secret.h"
#include "keystore/key_info.h"

namespace sigil::keystore {

inline constexpr int kSealedKeyRecordFormatVersion = 1;
inline constexpr size_t kMaxSealedKeyRecordSize = 64 * 1024;

struct SealedKeyRecord {
  KeyInfo info;
  std::vector<uint8_t> sealed_private_key;  // nonce (24) || ciphertext (32) || tag (16)
  std::array<uint8_t, 32> mac{};

  friend bool operator==(const SealedKeyRecord&, const SealedKeyRecord&) = default;
};

// The record as stored (binary, big-endian, documented field order; the
// last 32 bytes are the MAC).
std::vector<uint8_t> EncodeSealedKeyRecord(const SealedKeyRecord& record);
// Parses a stored record without checking its MAC. DataLoss naming `who` if
// the bytes are not a well-formed format 1 record.
absl::StatusOr<SealedKeyRecord> DecodeSealedKeyRecord(std::span<const uint8_t> bytes, std::string_view who);

// The exact bytes the record MAC covers: the encoding without the MAC.
std::vector<uint8_t> RecordMacInput(const SealedKeyRecord& record);
// The associated data of the sealed private key.
std::vector<uint8_t> SealAssociatedData(const KeyInfo& info);

class RecordSealer {
 public:
  // InvalidArgument unless the master key is 32 bytes.
  static absl::StatusOr<std::unique_ptr<RecordSealer>> Create(SecretBytes master_key);

  // A new record for `info` holding `private_key`, sealed and MACed.
  // InvalidArgument if the private key does not derive info.public_key.
  absl::StatusOr<SealedKeyRecord> Seal(const KeyInfo& info, const SecretBytes& private_key) const;
  // Recomputes the MAC after status or retired_at changed.
  absl::Status UpdateMac(SealedKeyRecord& record) const;
  // DataLoss "sealed record for <who> failed authentication ..." if the MAC
  // does not match.
  absl::Status Verify(const SealedKeyRecord& record, std::string_view who) const;
  // Verifies, then opens the private key and checks it against the public
  // key. DataLoss naming `who` on any failure.
  absl::StatusOr<SecretBytes> Unseal(const SealedKeyRecord& record, std::string_view who) const;

  // The master key check value: a known string sealed under a key derived
  // from the master key. Opening it proves the master key (and so the
  // passphrase) is right without touching any key record.
  absl::StatusOr<std::vector<uint8_t>> MakeCheckValue() const;
  bool CheckValueOpens(std::span<const uint8_t> check_value) const;

 private:
  RecordSealer(SecretBytes master, SecretBytes mac_key, SecretBytes check_key)
      : master_(std::move(master)), mac_key_(std::move(mac_key)), check_key_(std::move(check_key)) {}
  absl::StatusOr<SecretBytes> SealKeyFor(std::string_view key_id) const;
  std::array<uint8_t, 32> Mac(const SealedKeyRecord& record) const;

  const SecretBytes master_;
  const SecretBytes mac_key_;
  const SecretBytes check_key_;
};

// "key 'NAME' (id ID, version N)": how errors name a key version.
std::string DescribeKey(std::string_view name, std::string_view id, uint32_t version);

}  // namespace sigil::keystore
