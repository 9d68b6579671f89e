#include "audit/merkle.h"

#include <bit>
#include <cstring>
#include <string>

namespace sigil::audit {
namespace {

// Largest power of two strictly below n. REQUIRES: n >= 2.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

}  // namespace

Hash HashLeaf(std::span<const uint8_t> data) {
  // Small inputs stay on the stack; records are bounded but may exceed it.
  uint8_t stack[1024];
  if (data.size() < sizeof(stack)) {
    stack[0] = 0x00;
    if (!data.empty()) std::memcpy(stack + 1, data.data(), data.size());
    return crypto::Sha256({stack, data.size() + 1});
  }
  std::vector<uint8_t> buf(data.size() + 1);
  buf[0] = 0x00;
  std::memcpy(buf.data() + 1, data.data(), data.size());
  return crypto::Sha256(buf);
}

Hash HashChildren(const Hash& left, const Hash& right) {
  uint8_t buf[65];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), 32);
  std::memcpy(buf + 33, right.data(), 32);
  return crypto::Sha256(buf);
}

Hash EmptyTreeRoot() { return crypto::Sha256({}); }

Hash ComputeRoot(std::span<const Hash> leaves) {
  if (leaves.empty()) return EmptyTreeRoot();
  if (leaves.size() == 1) return leaves[0];
  uint64_t k = SplitPoint(leaves.size());
  return HashChildren(ComputeRoot(leaves.first(k)), ComputeRoot(leaves.subspan(k)));
}

MerkleTree::MerkleTree() : levels_(1) {}

void MerkleTree::Reserve(uint64_t leaves) {
  levels_[0].reserve(leaves);
}

void MerkleTree::Append(const Hash& leaf_hash) {
  levels_[0].push_back(leaf_hash);
  const uint64_t size = levels_[0].size();
  // Whenever a complete subtree of 2^(kStride*j) leaves closes, fold the
  // 2^kStride cached nodes below it into one.
  for (unsigned j = 1;; ++j) {
    const unsigned level = kStride * j;
    if (level >= 64 || (size & ((uint64_t{1} << level) - 1)) != 0) break;
    if (levels_.size() <= j) levels_.emplace_back();
    const std::vector<Hash>& below = levels_[j - 1];
    const uint64_t first = below.size() - (uint64_t{1} << kStride);
    Hash nodes[1u << kStride];
    for (unsigned i = 0; i < (1u << kStride); ++i) nodes[i] = below[first + i];
    for (unsigned width = (1u << kStride); width > 1; width /= 2) {
      for (unsigned i = 0; i < width / 2; ++i) nodes[i] = HashChildren(nodes[2 * i], nodes[2 * i + 1]);
    }
    levels_[j].push_back(nodes[0]);
  }
}

void MerkleTree::Truncate(uint64_t size) {
  for (size_t j = 0; j < levels_.size(); ++j) {
    const unsigned level = kStride * static_cast<unsigned>(j);
    levels_[j].resize(level >= 64 ? 0 : size >> level);
  }
}

Hash MerkleTree::NodeHash(unsigned level, uint64_t index) const {
  if (level % kStride == 0) return levels_[level / kStride][index];
  return HashChildren(NodeHash(level - 1, 2 * index), NodeHash(level - 1, 2 * index + 1));
}

Hash MerkleTree::RangeHash(uint64_t begin, uint64_t end) const {
  const uint64_t n = end - begin;
  if (n == 0) return EmptyTreeRoot();
  if (std::has_single_bit(n) && begin % n == 0) {
    return NodeHash(static_cast<unsigned>(std::countr_zero(n)), begin / n);
  }
  const uint64_t k = SplitPoint(n);
  return HashChildren(RangeHash(begin, begin + k), RangeHash(begin + k, end));
}

absl::StatusOr<Hash> MerkleTree::RootAt(uint64_t tree_size) const {
  if (tree_size > Size()) {
    return absl::OutOfRangeError("tree size " + std::to_string(tree_size) + " exceeds the log size " +
                                 std::to_string(Size()));
  }
  return RangeHash(0, tree_size);
}

Hash MerkleTree::Root() const { return RangeHash(0, Size()); }

absl::StatusOr<std::vector<Hash>> MerkleTree::InclusionPath(uint64_t index, uint64_t tree_size) const {
  if (tree_size > Size()) {
    return absl::InvalidArgumentError("tree size " + std::to_string(tree_size) + " exceeds the log size " +
                                      std::to_string(Size()));
  }
  if (index >= tree_size) {
    return absl::InvalidArgumentError("leaf index " + std::to_string(index) + " is not below tree size " +
                                      std::to_string(tree_size));
  }
  // PATH(m, D[begin:end]) walked top-down; siblings collected then reversed
  // so the path runs from the leaf up, as RFC 6962 orders it.
  std::vector<Hash> path;
  uint64_t begin = 0, end = tree_size, m = index;
  while (end - begin > 1) {
    const uint64_t k = SplitPoint(end - begin);
    if (m < k) {
      path.push_back(RangeHash(begin + k, end));
      end = begin + k;
    } else {
      path.push_back(RangeHash(begin, begin + k));
      begin += k;
      m -= k;
    }
  }
  return std::vector<Hash>(path.rbegin(), path.rend());
}

void MerkleTree::SubProof(uint64_t m, uint64_t begin, uint64_t end, bool whole, std::vector<Hash>& out) const {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!whole) out.push_back(RangeHash(begin, end));
    return;
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    SubProof(m, begin, begin + k, whole, out);
    out.push_back(RangeHash(begin + k, end));
  } else {
    SubProof(m - k, begin + k, end, false, out);
    out.push_back(RangeHash(begin, begin + k));
  }
}

absl::StatusOr<std::vector<Hash>> MerkleTree::ConsistencyPath(uint64_t old_size, uint64_t new_size) const {
  if (new_size > Size()) {
    return absl::InvalidArgumentError("tree size " + std::to_string(new_size) + " exceeds the log size " +
                                      std::to_string(Size()));
  }
  if (old_size > new_size) {
    return absl::InvalidArgumentError("old tree size " + std::to_string(old_size) + " exceeds new tree size " +
                                      std::to_string(new_size));
  }
  std::vector<Hash> out;
  if (old_size == 0 || old_size == new_size) return out;
  SubProof(old_size, 0, new_size, true, out);
  return out;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t tree_size, const Hash& leaf_hash, std::span<const Hash> path,
                             const Hash& root) {
  if (index >= tree_size) {
    return absl::InvalidArgumentError("inclusion proof: leaf index " + std::to_string(index) +
                                      " is not below tree size " + std::to_string(tree_size));
  }
  uint64_t fn = index, sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : path) {
    if (sn == 0) return absl::InvalidArgumentError("inclusion proof: path is longer than the tree is deep");
    if ((fn & 1) || fn == sn) {
      r = HashChildren(p, r);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return absl::InvalidArgumentError("inclusion proof: path is shorter than the tree is deep");
  if (r != root) return absl::FailedPreconditionError("inclusion proof: computed root does not match");
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root, const Hash& new_root,
                               std::span<const Hash> path) {
  if (old_size > new_size) {
    return absl::InvalidArgumentError("consistency proof: old size " + std::to_string(old_size) +
                                      " exceeds new size " + std::to_string(new_size));
  }
  // Only the empty tree's root is the root of size 0 (checked first, so two
  // equal roots of "size 0" do not pass as the same tree).
  if (old_size == 0 && old_root != EmptyTreeRoot()) {
    return absl::FailedPreconditionError("consistency proof: old root of size 0 is not the empty tree's root");
  }
  if (old_size == new_size) {
    if (!path.empty()) return absl::InvalidArgumentError("consistency proof: must be empty for equal sizes");
    if (old_root != new_root) {
      return absl::FailedPreconditionError("consistency proof: two roots for the same tree size differ");
    }
    return absl::OkStatus();
  }
  if (old_size == 0) {
    if (!path.empty()) return absl::InvalidArgumentError("consistency proof: must be empty from size 0");
    return absl::OkStatus();  // every tree extends the empty one
  }
  if (path.empty()) return absl::InvalidArgumentError("consistency proof: empty path");
  std::vector<Hash> p;
  p.reserve(path.size() + 1);
  if (std::has_single_bit(old_size)) p.push_back(old_root);
  p.insert(p.end(), path.begin(), path.end());
  uint64_t fn = old_size - 1, sn = new_size - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = p[0], sr = p[0];
  for (size_t i = 1; i < p.size(); ++i) {
    const Hash& c = p[i];
    if (sn == 0) return absl::InvalidArgumentError("consistency proof: path is longer than needed");
    if ((fn & 1) || fn == sn) {
      fr = HashChildren(c, fr);
      sr = HashChildren(c, sr);
      if (!(fn & 1)) {
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = HashChildren(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return absl::InvalidArgumentError("consistency proof: path is shorter than needed");
  if (fr != old_root) return absl::FailedPreconditionError("consistency proof: old root does not match");
  if (sr != new_root) return absl::FailedPreconditionError("consistency proof: new root does not match");
  return absl::OkStatus();
}

}  // namespace sigil::audit
