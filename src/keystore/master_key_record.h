// MasterKeyRecord: the one record that says how a software keystore's master
// key is obtained, stored beside the sealed key records (store table
// "keystore_master", key "master"). It holds no secret: the Argon2id
// parameters and salt for a passphrase, and the check value that tells a
// wrong passphrase from a right one. Format in doc/keystore.md.
//
// Plain value; thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/kdf.h"

namespace sigil::keystore {

inline constexpr int kMasterKeyRecordFormatVersion = 1;

enum class MasterKeySource {
  kPassphrase,  // master = Argon2id(passphrase, salt, params)
  kExternal,    // master supplied as 32 bytes: a key file, or unsealed by a TPM
};

struct MasterKeyRecord {
  MasterKeySource source = MasterKeySource::kPassphrase;
  crypto::Argon2Params argon2{};                     // kPassphrase only
  std::array<uint8_t, crypto::kArgon2SaltSize> salt{};  // kPassphrase only
  std::vector<uint8_t> check_value;                  // RecordSealer::MakeCheckValue()
};

std::string EncodeMasterKeyRecord(const MasterKeyRecord& record);
// DataLoss if malformed; FailedPrecondition for an unknown format version.
absl::StatusOr<MasterKeyRecord> DecodeMasterKeyRecord(std::span<const uint8_t> bytes);

}  // namespace sigil::keystore
