#include "chains/solana/base58.h"

#include <algorithm>
#include <vector>

namespace sigil::solana {
namespace {

constexpr char kAlphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

int DigitValue(char c) {
  const char* p = std::find(kAlphabet, kAlphabet + 58, c);
  return p == kAlphabet + 58 ? -1 : static_cast<int>(p - kAlphabet);
}

}  // namespace

std::string Base58Encode(std::span<const uint8_t> bytes) {
  size_t zeros = 0;
  while (zeros < bytes.size() && bytes[zeros] == 0) ++zeros;
  // log(256)/log(58) < 1.37: enough base-58 digits for the rest.
  std::vector<uint8_t> digits((bytes.size() - zeros) * 137 / 100 + 1, 0);
  size_t used = 0;  // significant digits so far (little-endian in `digits`)
  for (size_t i = zeros; i < bytes.size(); ++i) {
    unsigned carry = bytes[i];
    size_t j = 0;
    for (; j < used || carry != 0; ++j) {
      if (j == digits.size()) digits.push_back(0);  // not reached with the size above
      carry += 256u * digits[j];
      digits[j] = static_cast<uint8_t>(carry % 58);
      carry /= 58;
    }
    used = j;
  }
  std::string out(zeros, '1');
  for (size_t j = used; j > 0; --j) out += kAlphabet[digits[j - 1]];
  return out;
}

absl::StatusOr<Bytes> Base58Decode(std::string_view text, size_t max_decoded_bytes) {
  size_t ones = 0;
  while (ones < text.size() && text[ones] == '1') ++ones;
  // Each further character carries less than one byte: refuse input that
  // could not decode within the bound before doing quadratic work.
  if (ones > max_decoded_bytes || text.size() - ones > 2 * (max_decoded_bytes - ones) + 1) {
    return absl::InvalidArgumentError("base58 text is too long (limit " + std::to_string(max_decoded_bytes) +
                                      " decoded bytes)");
  }
  std::vector<uint8_t> bytes((text.size() - ones) * 733 / 1000 + 1, 0);  // log(58)/log(256) < 0.733
  size_t used = 0;
  for (size_t i = ones; i < text.size(); ++i) {
    int v = DigitValue(text[i]);
    if (v < 0) {
      return absl::InvalidArgumentError("invalid base58 character at position " + std::to_string(i));
    }
    unsigned carry = static_cast<unsigned>(v);
    size_t j = 0;
    for (; j < used || carry != 0; ++j) {
      if (j == bytes.size()) bytes.push_back(0);  // not reached with the size above
      carry += 58u * bytes[j];
      bytes[j] = static_cast<uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    used = j;
  }
  if (ones + used > max_decoded_bytes) {
    return absl::InvalidArgumentError("base58 value is longer than " + std::to_string(max_decoded_bytes) + " bytes");
  }
  Bytes out(ones, 0);
  for (size_t j = used; j > 0; --j) out.push_back(bytes[j - 1]);
  return out;
}

}  // namespace sigil::solana
