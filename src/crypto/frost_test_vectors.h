// Shared by the FROST tests (test-only; frost_test.cc, frost_dkg_test.cc):
// reading the vector files in vectors/frost, and one whole signing run.
#pragma once

#include <string>
#include <vector>

#include "base/hex.h"
#include "base/secret.h"
#include "base/status.h"
#include "crypto/frost.h"
#include "crypto/test_vectors.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace sigil::crypto::frost {

using test_vectors::FromHex;

inline nlohmann::json LoadFrostVectors(const std::string& file) { return test_vectors::LoadVectors("frost/" + file); }

inline SecretBytes SecretFromHex(const std::string& hex) { return SecretBytes::CopyFrom(FromHex(hex)); }

// Test vectors are public, so their secrets may be compared as hex.
inline std::string Hex(const SecretBytes& secret) { return HexEncode(secret.Reveal(SecretAccess::Get())); }

inline Suite SuiteOf(const nlohmann::json& v) {
  return v["config"]["group"] == "ed25519" ? Suite::kEd25519Sha512 : Suite::kSecp256k1Sha256;
}

// The files hold counts as strings in some places and numbers in others.
inline int AsInt(const nlohmann::json& j) { return j.is_string() ? std::stoi(j.get<std::string>()) : j.get<int>(); }

inline Identifier Id(Suite suite, uint64_t value) {
  auto id = Identifier::FromInteger(suite, value);
  EXPECT_TRUE(id.ok());
  return *id;
}

// A whole signing session among `signers` (in the order given, not sorted):
// fresh nonces, one share each, aggregated by the coordinator.
inline absl::StatusOr<Bytes> SignTogether(const std::vector<const KeyPackage*>& signers,
                                          const PublicKeyPackage& public_key_package,
                                          std::span<const uint8_t> message) {
  std::vector<SigningNonces> nonces;
  std::vector<SigningCommitment> commitments;
  for (const KeyPackage* kp : signers) {
    ASSIGN_OR_RETURN(SigningNonces n, Commit(*kp));
    commitments.push_back(n.commitment());
    nonces.push_back(std::move(n));
  }
  std::vector<SignatureShare> shares;
  for (size_t k = 0; k < signers.size(); ++k) {
    ASSIGN_OR_RETURN(SignatureShare share, Sign(*signers[k], std::move(nonces[k]), message, commitments));
    shares.push_back(std::move(share));
  }
  return Aggregate(public_key_package, commitments, message, shares);
}

}  // namespace sigil::crypto::frost
