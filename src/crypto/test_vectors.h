// Test-only helpers shared by the crypto tests that read the official
// vectors under SIGIL_VECTORS_DIR (ed25519_test.cc,
// secp256k1_vectors_test.cc, the FROST tests).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "base/hex.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace sigil::crypto::test_vectors {

// The file at `relative` under the vectors directory; a missing file fails
// the test (and yields "").
inline std::string ReadVectorFile(const std::string& relative) {
  const std::string path = std::string(SIGIL_VECTORS_DIR) + "/" + relative;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline nlohmann::json LoadVectors(const std::string& relative) {
  return nlohmann::json::parse(ReadVectorFile(relative));
}

// Bad hex fails the test and yields no bytes.
inline Bytes FromHex(const std::string& hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << hex;
  return bytes.ok() ? *bytes : Bytes{};
}

// False (and `out` untouched) unless `bytes` has exactly N bytes.
template <size_t N>
bool ToArray(const Bytes& bytes, std::array<uint8_t, N>& out) {
  if (bytes.size() != N) return false;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return true;
}

}  // namespace sigil::crypto::test_vectors
