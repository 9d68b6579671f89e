// Checkpoint: a signed statement "log L had `tree_size` records with Merkle
// root R at time T". Checkpoints are what make truncation and rewriting
// detectable offline: a verifier holding only the log and the audit public
// key recomputes the root at each checkpoint and checks the signature.
//
// Signed message (doc/audit-log.md §4), UTF-8 text, every line ending "\n":
//   sigil-audit-checkpoint/v1
//   log <32 lower-case hex digits: the log id>
//   size <decimal tree size>
//   root <64 lower-case hex digits>
//   time <decimal unix milliseconds>
// The first line is a domain-separation prefix: no other Sigil signature
// (attestation, backups) can be mistaken for a checkpoint or vice versa.
// The stored form appends one more line: "sig <128 hex digits>\n" (Ed25519).
//
// Thread-safety: plain values and stateless functions.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "audit/merkle.h"
#include "crypto/ed25519.h"
#include "nlohmann/json.hpp"

namespace sigil::audit {

inline constexpr char kCheckpointDomain[] = "sigil-audit-checkpoint/v1";

using LogId = std::array<uint8_t, 16>;

struct Checkpoint {
  LogId log_id{};
  uint64_t tree_size = 0;
  Hash root{};
  uint64_t time_ms = 0;
  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

struct SignedCheckpoint {
  Checkpoint checkpoint;
  crypto::Ed25519Signature signature{};
  friend bool operator==(const SignedCheckpoint&, const SignedCheckpoint&) = default;

  // {"log_id","tree_size","root","time_ms","signature"}; hashes in hex.
  nlohmann::json ToJson() const;
  static absl::StatusOr<SignedCheckpoint> FromJson(const nlohmann::json& j);
};

// The exact bytes that are signed.
std::string CheckpointMessage(const Checkpoint& checkpoint);
// The stored form: message followed by the "sig" line.
std::string EncodeSignedCheckpoint(const SignedCheckpoint& checkpoint);
// Strict inverse of EncodeSignedCheckpoint (InvalidArgument otherwise).
// Does not check the signature.
absl::StatusOr<SignedCheckpoint> ParseSignedCheckpoint(std::span<const uint8_t> bytes);
// True if the signature is a valid Ed25519 signature by `key` over
// CheckpointMessage(checkpoint).
bool VerifyCheckpointSignature(const SignedCheckpoint& checkpoint, const crypto::Ed25519PublicKey& key);

}  // namespace sigil::audit
