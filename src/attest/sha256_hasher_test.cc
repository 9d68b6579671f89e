#include "attest/sha256_hasher.h"

#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "attest/reporter.h"
#include "base/hex.h"
#include "crypto/hash.h"
#include "gtest/gtest.h"
#include "testing/scoped_temp_dir.h"

namespace sigil::attest {
namespace {

TEST(Sha256Hasher, KnownAnswers) {
  // FIPS 180-4 examples.
  Sha256Hasher empty;
  EXPECT_EQ(HexEncode(empty.Final()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256Hasher abc;
  abc.Update(AsBytes("abc"));
  EXPECT_EQ(HexEncode(abc.Final()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Hasher two_blocks;
  two_blocks.Update(AsBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"));
  EXPECT_EQ(HexEncode(two_blocks.Final()), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Hasher, AnySplitEqualsOneShot) {
  std::vector<uint8_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  const crypto::Hash256 expected = crypto::Sha256(data);
  for (size_t chunk : {1u, 3u, 63u, 64u, 65u, 999u, 1000u}) {
    Sha256Hasher h;
    for (size_t off = 0; off < data.size(); off += chunk) {
      h.Update(std::span<const uint8_t>(data).subspan(off, std::min(chunk, data.size() - off)));
    }
    h.Update({});
    EXPECT_EQ(h.Final(), expected) << "chunk " << chunk;
  }
}

TEST(MeasureFile, HashesTheWholeFileAcrossBufferBoundaries) {
  ScopedTempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/blob";
  // Larger than the 64 KiB read buffer, not a multiple of it.
  std::string content(200000, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i % 251);
  std::ofstream(path, std::ios::binary) << content;
  auto h = MeasureFile(path);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(*h, crypto::Sha256(AsBytes(content)));
}

TEST(MeasureFile, MissingFileIsNotFound) {
  auto h = MeasureFile("/nonexistent/sigil-binary");
  EXPECT_EQ(h.status().code(), absl::StatusCode::kNotFound);
}

TEST(MeasureSelf, IsTheHashOfThisTestBinary) {
  auto self = MeasureSelf();
  ASSERT_TRUE(self.ok()) << self.status();
  char target[4096];
  const ssize_t n = ::readlink("/proc/self/exe", target, sizeof(target) - 1);
  ASSERT_GT(n, 0);
  target[n] = '\0';
  auto direct = MeasureFile(target);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(*self, *direct);
  EXPECT_NE(*self, crypto::Sha256({}));
}

}  // namespace
}  // namespace sigil::attest
