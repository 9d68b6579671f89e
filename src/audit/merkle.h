// Merkle tree hashing for the audit log, as RFC 6962 / RFC 9162 (Certificate
// Transparency) define it:
//   leaf hash  = SHA-256(0x00 || data)
//   node hash  = SHA-256(0x01 || left || right)
//   empty tree = SHA-256("")
// with MTH(D[n]) splitting at the largest power of two below n.
//
// MerkleTree is append-only storage for the leaf hashes plus a compact cache
// of complete-subtree hashes (every 4th level, about 1/15 of the leaf
// storage), so the root at any size, an inclusion path or a consistency path
// costs O(log n) hashes (at most ~8 per level) even at millions of leaves.
//
// Security property: with SHA-256 collision resistance, a root commits to the
// exact sequence of leaves; an inclusion proof shows a leaf is at an index of
// the tree with that root; a consistency proof shows a tree is a prefix of a
// later one. The verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2.
//
// Thread-safety: MerkleTree is not synchronised. Concurrent const calls are
// safe; Append/Truncate need exclusive access. The free functions are
// stateless and thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/hash.h"

namespace sigil::audit {

using Hash = crypto::Hash256;

Hash HashLeaf(std::span<const uint8_t> data);
Hash HashChildren(const Hash& left, const Hash& right);
Hash EmptyTreeRoot();

// MTH over the given leaf hashes, computed directly (reference and tests).
Hash ComputeRoot(std::span<const Hash> leaf_hashes);

class MerkleTree {
 public:
  MerkleTree();

  // Adds one leaf (its leaf hash, i.e. already HashLeaf()ed).
  void Append(const Hash& leaf_hash);
  // Drops every leaf at index >= size. REQUIRES: size <= Size().
  void Truncate(uint64_t size);
  void Reserve(uint64_t leaves);

  uint64_t Size() const { return levels_[0].size(); }
  // REQUIRES: index < Size().
  const Hash& LeafHash(uint64_t index) const { return levels_[0][index]; }

  // MTH of the first `tree_size` leaves. OutOfRange if tree_size > Size().
  absl::StatusOr<Hash> RootAt(uint64_t tree_size) const;
  Hash Root() const;

  // RFC 6962 PATH(index, D[tree_size]): sibling hashes from the leaf up.
  // InvalidArgument unless index < tree_size <= Size().
  absl::StatusOr<std::vector<Hash>> InclusionPath(uint64_t index, uint64_t tree_size) const;
  // RFC 6962 PROOF(old_size, D[new_size]). Empty when old_size is 0 or equal
  // to new_size. InvalidArgument unless old_size <= new_size <= Size().
  absl::StatusOr<std::vector<Hash>> ConsistencyPath(uint64_t old_size, uint64_t new_size) const;

 private:
  // Levels cached: 0, kStride, 2*kStride, ... (level L holds complete
  // subtrees of 2^L leaves).
  static constexpr unsigned kStride = 4;

  Hash RangeHash(uint64_t begin, uint64_t end) const;
  Hash NodeHash(unsigned level, uint64_t index) const;
  void SubProof(uint64_t m, uint64_t begin, uint64_t end, bool whole, std::vector<Hash>& out) const;

  // levels_[j][i] = hash of leaves [i * 2^(kStride*j), (i+1) * 2^(kStride*j)).
  std::vector<std::vector<Hash>> levels_;
};

// RFC 9162 §2.1.3.2. OK if `path` proves `leaf_hash` is leaf `index` of the
// tree of `tree_size` leaves with root `root`; otherwise an error
// (InvalidArgument for malformed input, FailedPrecondition for a mismatch)
// that says which.
[[nodiscard]] absl::Status VerifyInclusion(uint64_t index, uint64_t tree_size, const Hash& leaf_hash,
                                           std::span<const Hash> path, const Hash& root);

// RFC 9162 §2.1.4.2. OK if `path` proves the tree (old_size, old_root) is a
// prefix of (new_size, new_root). old_size == new_size needs an empty path
// and equal roots; old_size == 0 needs an empty path and old_root ==
// EmptyTreeRoot() (RFC 9162 §2.1.4.2 only proves from a non-empty tree).
[[nodiscard]] absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                                             const Hash& new_root, std::span<const Hash> path);

}  // namespace sigil::audit
