// Proof objects the audit log hands out, JSON-able for the REST API and the
// CLI. Hashes are lower-case hex in JSON.
//
// An InclusionProof shows that the record with `leaf_hash` is entry
// `leaf_index` (== its seq) of the log when it had `tree_size` records and
// root `root`; compare `root` with a signed checkpoint of that size to bind it
// to the audit key. A ConsistencyProof shows the log at `old_size` is a
// prefix of the log at `new_size` (nothing was rewritten in between).
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "audit/merkle.h"
#include "nlohmann/json.hpp"

namespace sigil::audit {

struct InclusionProof {
  uint64_t leaf_index = 0;
  uint64_t tree_size = 0;
  Hash leaf_hash{};
  Hash root{};
  std::vector<Hash> path;

  // {"leaf_index","tree_size","leaf_hash","root","path":[hex...]}
  nlohmann::json ToJson() const;
  static absl::StatusOr<InclusionProof> FromJson(const nlohmann::json& j);
  // VerifyInclusion() over the fields.
  [[nodiscard]] absl::Status Verify() const;
};

struct ConsistencyProof {
  uint64_t old_size = 0;
  uint64_t new_size = 0;
  Hash old_root{};
  Hash new_root{};
  std::vector<Hash> path;

  // {"old_size","new_size","old_root","new_root","path":[hex...]}
  nlohmann::json ToJson() const;
  static absl::StatusOr<ConsistencyProof> FromJson(const nlohmann::json& j);
  // VerifyConsistency() over the fields.
  [[nodiscard]] absl::Status Verify() const;
};

}  // namespace sigil::audit
