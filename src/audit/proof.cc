#include "audit/proof.h"

#include <string>

#include "base/hex.h"
#include "base/status.h"

namespace sigil::audit {
namespace {

// Proofs are at most 64 hashes deep; bound untrusted input accordingly.
constexpr size_t kMaxPathLength = 128;

absl::StatusOr<Hash> HashFromJson(const nlohmann::json& j, const char* field) {
  if (!j.is_string()) return absl::InvalidArgumentError(std::string(field) + " must be a hex string");
  ASSIGN_OR_RETURN(Bytes bytes, HexDecode(j.get<std::string>()));
  if (bytes.size() != 32) return absl::InvalidArgumentError(std::string(field) + " must be 32 bytes");
  Hash h;
  std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

absl::StatusOr<uint64_t> UintFromJson(const nlohmann::json& j, const char* field) {
  if (!j.is_number_unsigned()) return absl::InvalidArgumentError(std::string(field) + " must be an unsigned integer");
  return j.get<uint64_t>();
}

absl::StatusOr<std::vector<Hash>> PathFromJson(const nlohmann::json& j) {
  if (!j.is_array()) return absl::InvalidArgumentError("path must be an array of hex hashes");
  if (j.size() > kMaxPathLength) return absl::InvalidArgumentError("path is too long");
  std::vector<Hash> path;
  for (const auto& e : j) {
    ASSIGN_OR_RETURN(Hash h, HashFromJson(e, "path entry"));
    path.push_back(h);
  }
  return path;
}

nlohmann::json PathToJson(const std::vector<Hash>& path) {
  nlohmann::json a = nlohmann::json::array();
  for (const Hash& h : path) a.push_back(HexEncode(h));
  return a;
}

}  // namespace

nlohmann::json InclusionProof::ToJson() const {
  return {{"leaf_index", leaf_index},         {"tree_size", tree_size}, {"leaf_hash", HexEncode(leaf_hash)},
          {"root", HexEncode(root)}, {"path", PathToJson(path)}};
}

absl::StatusOr<InclusionProof> InclusionProof::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("inclusion proof must be a JSON object");
  for (const char* f : {"leaf_index", "tree_size", "leaf_hash", "root", "path"}) {
    if (!j.contains(f)) return absl::InvalidArgumentError(std::string("inclusion proof lacks ") + f);
  }
  InclusionProof p;
  ASSIGN_OR_RETURN(p.leaf_index, UintFromJson(j["leaf_index"], "leaf_index"));
  ASSIGN_OR_RETURN(p.tree_size, UintFromJson(j["tree_size"], "tree_size"));
  ASSIGN_OR_RETURN(p.leaf_hash, HashFromJson(j["leaf_hash"], "leaf_hash"));
  ASSIGN_OR_RETURN(p.root, HashFromJson(j["root"], "root"));
  ASSIGN_OR_RETURN(p.path, PathFromJson(j["path"]));
  return p;
}

absl::Status InclusionProof::Verify() const { return VerifyInclusion(leaf_index, tree_size, leaf_hash, path, root); }

nlohmann::json ConsistencyProof::ToJson() const {
  return {{"old_size", old_size},
          {"new_size", new_size},
          {"old_root", HexEncode(old_root)},
          {"new_root", HexEncode(new_root)},
          {"path", PathToJson(path)}};
}

absl::StatusOr<ConsistencyProof> ConsistencyProof::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("consistency proof must be a JSON object");
  for (const char* f : {"old_size", "new_size", "old_root", "new_root", "path"}) {
    if (!j.contains(f)) return absl::InvalidArgumentError(std::string("consistency proof lacks ") + f);
  }
  ConsistencyProof p;
  ASSIGN_OR_RETURN(p.old_size, UintFromJson(j["old_size"], "old_size"));
  ASSIGN_OR_RETURN(p.new_size, UintFromJson(j["new_size"], "new_size"));
  ASSIGN_OR_RETURN(p.old_root, HashFromJson(j["old_root"], "old_root"));
  ASSIGN_OR_RETURN(p.new_root, HashFromJson(j["new_root"], "new_root"));
  ASSIGN_OR_RETURN(p.path, PathFromJson(j["path"]));
  return p;
}

absl::Status ConsistencyProof::Verify() const {
  return VerifyConsistency(old_size, new_size, old_root, new_root, path);
}

}  // namespace sigil::audit
