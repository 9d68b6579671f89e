// Key material for each KeyType: generating a private key and deriving its
// public key in the encoding KeyInfo uses. Software backends share these;
// a PKCS#11 backend generates inside the token instead.
//
// Thread-safe. Private keys stay in SecretBytes.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "base/secret.h"
#include "keystore/key_info.h"

namespace sigil::keystore {

// A fresh private key for `type`: a secp256k1 scalar (kSecp256k1, kSchnorr)
// or an Ed25519 seed, 32 bytes either way.
absl::StatusOr<SecretBytes> GeneratePrivateKey(KeyType type);

// The public key of `private_key` as KeyInfo stores it: 65-byte uncompressed
// (kSecp256k1), 32-byte x-only (kSchnorr), 32 bytes (kEd25519).
// InvalidArgument if the private key is not valid for the type.
absl::StatusOr<std::vector<uint8_t>> DerivePublicKey(KeyType type, const SecretBytes& private_key);

}  // namespace sigil::keystore
