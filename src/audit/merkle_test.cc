#include "audit/merkle.h"

#include <fstream>
#include <random>

#include "base/hex.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace sigil::audit {
namespace {

Hash H(const std::string& hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << hex;
  Hash h{};
  if (bytes.ok() && bytes->size() == 32) std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

std::vector<Hash> Path(const nlohmann::json& a) {
  std::vector<Hash> out;
  for (const auto& e : a) out.push_back(H(e.get<std::string>()));
  return out;
}

class MerkleVectors : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream in(std::string(SIGIL_VECTORS_DIR) + "/merkle/rfc6962-merkle-vectors.json");
    ASSERT_TRUE(in) << "missing merkle vectors";
    v_ = nlohmann::json::parse(in);
    for (const auto& leaf : v_["leaf_inputs_hex"]) {
      auto data = HexDecode(leaf.get<std::string>());
      ASSERT_TRUE(data.ok());
      leaves_.push_back(*data);
      tree_.Append(HashLeaf(*data));
    }
  }
  nlohmann::json v_;
  std::vector<Bytes> leaves_;
  MerkleTree tree_;
};

TEST_F(MerkleVectors, RootsAtEverySize) {
  const auto& roots = v_["root_hash_by_tree_size"];
  ASSERT_EQ(roots.size(), leaves_.size() + 1);
  EXPECT_EQ(HexEncode(EmptyTreeRoot()), roots[0].get<std::string>());
  for (size_t n = 0; n < roots.size(); ++n) {
    auto root = tree_.RootAt(n);
    ASSERT_TRUE(root.ok());
    EXPECT_EQ(HexEncode(*root), roots[n].get<std::string>()) << "size " << n;
    std::vector<Hash> hashes;
    for (size_t i = 0; i < n; ++i) hashes.push_back(HashLeaf(leaves_[i]));
    EXPECT_EQ(HexEncode(ComputeRoot(hashes)), roots[n].get<std::string>()) << "size " << n;
  }
}

TEST_F(MerkleVectors, AllInclusionProofs) {
  const auto& proofs = v_["inclusion_proofs"];
  ASSERT_EQ(proofs.size(), 36u);
  for (const auto& p : proofs) {
    const uint64_t index = p["leaf_index"], size = p["tree_size"];
    auto leaf = HexDecode(p["leaf_input"].get<std::string>());
    ASSERT_TRUE(leaf.ok());
    const std::vector<Hash> expected = Path(p["inclusion_path"]);
    auto path = tree_.InclusionPath(index, size);
    ASSERT_TRUE(path.ok());
    EXPECT_EQ(*path, expected) << "index " << index << " size " << size;
    EXPECT_TRUE(VerifyInclusion(index, size, HashLeaf(*leaf), expected, H(p["root"])).ok())
        << "index " << index << " size " << size;
    // Any change must fail.
    Hash wrong = HashLeaf(*leaf);
    wrong[0] ^= 1;
    EXPECT_FALSE(VerifyInclusion(index, size, wrong, expected, H(p["root"])).ok());
    if (!expected.empty()) {
      std::vector<Hash> bad = expected;
      bad.back()[31] ^= 0x80;
      EXPECT_FALSE(VerifyInclusion(index, size, HashLeaf(*leaf), bad, H(p["root"])).ok());
      bad = expected;
      bad.pop_back();
      EXPECT_FALSE(VerifyInclusion(index, size, HashLeaf(*leaf), bad, H(p["root"])).ok());
    }
    std::vector<Hash> longer = expected;
    longer.push_back(H(p["root"]));
    EXPECT_FALSE(VerifyInclusion(index, size, HashLeaf(*leaf), longer, H(p["root"])).ok());
    if (size > 1) {
      EXPECT_FALSE(VerifyInclusion((index + 1) % size, size, HashLeaf(*leaf), expected, H(p["root"])).ok());
    }
  }
}

TEST_F(MerkleVectors, AllConsistencyProofs) {
  const auto& proofs = v_["consistency_proofs"];
  ASSERT_EQ(proofs.size(), 36u);
  for (const auto& p : proofs) {
    const uint64_t m = p["old_size"], n = p["new_size"];
    const std::vector<Hash> expected = Path(p["consistency_proof"]);
    auto path = tree_.ConsistencyPath(m, n);
    ASSERT_TRUE(path.ok());
    EXPECT_EQ(*path, expected) << m << " -> " << n;
    EXPECT_TRUE(VerifyConsistency(m, n, H(p["old_root"]), H(p["new_root"]), expected).ok()) << m << " -> " << n;
    Hash wrong = H(p["old_root"]);
    wrong[5] ^= 4;
    EXPECT_FALSE(VerifyConsistency(m, n, wrong, H(p["new_root"]), expected).ok());
    wrong = H(p["new_root"]);
    wrong[5] ^= 4;
    EXPECT_FALSE(VerifyConsistency(m, n, H(p["old_root"]), wrong, expected).ok());
    if (!expected.empty()) {
      std::vector<Hash> bad = expected;
      bad[0][0] ^= 1;
      EXPECT_FALSE(VerifyConsistency(m, n, H(p["old_root"]), H(p["new_root"]), bad).ok());
    }
  }
}

TEST(MerkleTree, LargeTreeMatchesReferenceAndProofsVerify) {
  // Crosses several cached levels (16, 256, 4096) at odd sizes.
  MerkleTree tree;
  std::vector<Hash> leaves;
  for (uint32_t i = 0; i < 5000; ++i) {
    Hash h = HashLeaf(AsBytes(std::to_string(i)));
    leaves.push_back(h);
    tree.Append(h);
  }
  std::mt19937_64 rng(7);
  for (uint64_t size : {1ull, 2ull, 15ull, 16ull, 17ull, 255ull, 256ull, 257ull, 4095ull, 4096ull, 4097ull, 5000ull}) {
    const Hash root = ComputeRoot(std::span(leaves).first(size));
    ASSERT_EQ(tree.RootAt(size).value(), root) << size;
    for (int k = 0; k < 20; ++k) {
      const uint64_t i = rng() % size;
      auto path = tree.InclusionPath(i, size);
      ASSERT_TRUE(path.ok());
      EXPECT_TRUE(VerifyInclusion(i, size, leaves[i], *path, root).ok()) << i << "/" << size;
      const uint64_t old = 1 + rng() % size;
      auto cpath = tree.ConsistencyPath(old, size);
      ASSERT_TRUE(cpath.ok());
      EXPECT_TRUE(VerifyConsistency(old, size, tree.RootAt(old).value(), root, *cpath).ok()) << old << "->" << size;
    }
  }
  // Truncate then regrow gives the same tree.
  tree.Truncate(4000);
  EXPECT_EQ(tree.Root(), ComputeRoot(std::span(leaves).first(4000)));
  for (uint32_t i = 4000; i < 5000; ++i) tree.Append(leaves[i]);
  EXPECT_EQ(tree.Root(), ComputeRoot(leaves));
}

TEST(MerkleTree, RejectsOutOfRangeRequests) {
  MerkleTree tree;
  for (int i = 0; i < 10; ++i) tree.Append(HashLeaf(AsBytes(std::to_string(i))));
  EXPECT_FALSE(tree.RootAt(11).ok());
  EXPECT_FALSE(tree.InclusionPath(10, 10).ok());
  EXPECT_FALSE(tree.InclusionPath(0, 11).ok());
  EXPECT_FALSE(tree.ConsistencyPath(5, 11).ok());
  EXPECT_FALSE(tree.ConsistencyPath(6, 5).ok());
  EXPECT_TRUE(tree.ConsistencyPath(0, 10).value().empty());
  EXPECT_FALSE(VerifyInclusion(3, 3, tree.LeafHash(0), {}, tree.Root()).ok());
  EXPECT_FALSE(VerifyConsistency(6, 5, tree.Root(), tree.Root(), {}).ok());
}

TEST(MerkleTree, ConsistencyFromSizeZeroNeedsTheEmptyRoot) {
  MerkleTree tree;
  for (int i = 0; i < 10; ++i) tree.Append(HashLeaf(AsBytes(std::to_string(i))));
  EXPECT_EQ(tree.RootAt(0).value(), EmptyTreeRoot());
  EXPECT_TRUE(VerifyConsistency(0, 10, EmptyTreeRoot(), tree.Root(), {}).ok());
  EXPECT_TRUE(VerifyConsistency(0, 0, EmptyTreeRoot(), EmptyTreeRoot(), {}).ok());
  // A claimed size-0 root that is not the empty tree's is refuted, not waved through.
  absl::Status forged = VerifyConsistency(0, 10, tree.Root(), tree.Root(), {});
  EXPECT_TRUE(absl::IsFailedPrecondition(forged)) << forged;
  EXPECT_FALSE(VerifyConsistency(0, 10, tree.LeafHash(3), tree.Root(), {}).ok());
  // Nor do two equal roots of "size 0" pass as the same tree.
  EXPECT_TRUE(absl::IsFailedPrecondition(VerifyConsistency(0, 0, tree.Root(), tree.Root(), {})));
}

}  // namespace
}  // namespace sigil::audit
