#include "crypto/hash.h"

#include <string>
#include <vector>

#include "base/hex.h"
#include "gtest/gtest.h"

namespace sigil::crypto {
namespace {

TEST(HashTest, Keccak256KnownAnswers) {
  EXPECT_EQ(HexEncode(Keccak256({})), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  // Not FIPS SHA3-256 (which would be 3a985da7...): Ethereum's original padding.
  EXPECT_EQ(HexEncode(Keccak256(AsBytes("abc"))), "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

TEST(HashTest, Sha256KnownAnswers) {
  EXPECT_EQ(HexEncode(Sha256({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(Sha256(AsBytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HashTest, Sha512KnownAnswer) {
  EXPECT_EQ(HexEncode(Sha512(AsBytes("abc"))),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(HashTest, HmacSha256Rfc4231) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 1: key = 0x0b * 20, "Hi There".
  std::vector<uint8_t> key(20, 0x0b);
  EXPECT_EQ(HexEncode(HmacSha256(key, AsBytes("Hi There"))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 6: a key longer than the block size is hashed first.
  std::vector<uint8_t> long_key(131, 0xaa);
  EXPECT_EQ(HexEncode(HmacSha256(long_key, AsBytes("Test Using Larger Than Block-Size Key - Hash Key First"))),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HashTest, HmacSha256EmptyKeyAndData) {
  EXPECT_EQ(HexEncode(HmacSha256({}, {})), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HashTest, IncrementalKeccakMatchesOneShot) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7));
  Keccak256Hasher hasher;
  // Split across the 136-byte rate boundary in odd pieces.
  size_t pos = 0;
  for (size_t piece : {1u, 135u, 2u, 300u, 0u, 562u}) {
    hasher.Update(AsBytes(std::string_view(data).substr(pos, piece)));
    pos += piece;
  }
  ASSERT_EQ(pos, data.size());
  EXPECT_EQ(hasher.Final(), Keccak256(AsBytes(data)));
  // The hasher is reusable after Final.
  hasher.Update(AsBytes("abc"));
  EXPECT_EQ(hasher.Final(), Keccak256(AsBytes("abc")));
}

}  // namespace
}  // namespace sigil::crypto
