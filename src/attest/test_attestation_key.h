// TestAttestationKey: an Ed25519 attestation key from a fixed seed, with the
// signer callback a Reporter takes, plus a sample daemon state. For the
// attest tests only (the daemon signs through the keystore).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "attest/reporter.h"
#include "attest/verifier.h"
#include "base/hex.h"
#include "base/secret.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"

namespace sigil::attest {

class TestAttestationKey {
 public:
  // Seed: 32 bytes of `fill`.
  explicit TestAttestationKey(uint8_t fill)
      : seed_(std::make_shared<SecretBytes>(SecretBytes::CopyFrom(std::vector<uint8_t>(32, fill)))) {
    public_key_ = crypto::DeriveEd25519PublicKey(*seed_).value();
  }

  const crypto::Ed25519PublicKey& public_key() const { return public_key_; }

  ReportSigner Signer() const {
    std::shared_ptr<SecretBytes> seed = seed_;
    return [seed](std::span<const uint8_t> message) { return crypto::Ed25519Sign(*seed, message); };
  }

  // Signs `report` in place (as a Reporter would, without its checks).
  void Sign(AttestationReport& report) const {
    const std::string message = CanonicalReportBytes(report);
    report.signature = crypto::Ed25519Sign(*seed_, AsBytes(message)).value();
  }

 private:
  std::shared_ptr<SecretBytes> seed_;
  crypto::Ed25519PublicKey public_key_{};
};

inline crypto::Hash256 TestHash(std::string_view label) { return crypto::Sha256(AsBytes(label)); }

inline ReportState SampleState() {
  ReportState state;
  state.config_hash = TestHash("config");
  state.policy_hash = TestHash("policy");
  state.audit.size = 42;
  state.audit.root = TestHash("audit root");
  state.keys.push_back(ServedKey{"treasury", "secp256k1", std::vector<uint8_t>(65, 0x04),
                                 "0x52908400098527886E0F7030069857D2E4169EE7"});
  state.keys.push_back(ServedKey{"nostr-bot", "schnorr", std::vector<uint8_t>(32, 0x11), ""});
  state.keys.push_back(ServedKey{"solana-ops", "ed25519", std::vector<uint8_t>(32, 0x22),
                                 "3Fyn4r8Lk1k3JqX5z5PkRSzcVL7QpsE8Q1GMAcm6uLXQ"});
  const auto audit_seed = SecretBytes::CopyFrom(std::vector<uint8_t>(32, 0xAA));
  state.audit_public_key = crypto::DeriveEd25519PublicKey(audit_seed).value();
  return state;
}

inline std::vector<uint8_t> TestNonce(uint8_t fill = 0x5a, size_t size = 32) {
  return std::vector<uint8_t>(size, fill);
}

// The error codes of a verification, in order.
inline std::vector<std::string> ErrorCodes(const VerifyResult& r) {
  std::vector<std::string> codes;
  for (const auto& e : r.errors) codes.push_back(e.code);
  return codes;
}

}  // namespace sigil::attest
