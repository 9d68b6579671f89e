#include "chains/ethereum/address.h"

#include <algorithm>

#include "crypto/hash.h"

namespace sigil::eth {
namespace {

constexpr char kLowerDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// EIP-55: hash the lower-case hex digits (ASCII, no prefix); digit i is
// upper-cased when nibble i of the hash is >= 8.
std::string ChecksumDigits(const std::array<uint8_t, Address::kSize>& bytes) {
  std::string lower(2 * Address::kSize, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    lower[2 * i] = kLowerDigits[bytes[i] >> 4];
    lower[2 * i + 1] = kLowerDigits[bytes[i] & 0x0f];
  }
  crypto::Hash256 h = crypto::Keccak256(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(lower.data()), lower.size()));
  for (size_t i = 0; i < lower.size(); ++i) {
    uint8_t nibble = (i % 2 == 0) ? (h[i / 2] >> 4) : (h[i / 2] & 0x0f);
    if (nibble >= 8 && lower[i] >= 'a') lower[i] = static_cast<char>(lower[i] - 'a' + 'A');
  }
  return lower;
}

}  // namespace

absl::StatusOr<Address> Address::Parse(std::string_view text) {
  if (text.size() < 2 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
    return absl::InvalidArgumentError("address must start with 0x");
  }
  std::string_view digits = text.substr(2);
  if (digits.size() != 2 * kSize) {
    return absl::InvalidArgumentError("address must be 0x followed by 40 hex digits, got " +
                                      std::to_string(digits.size()) + " digits");
  }
  Address a;
  bool has_lower = false, has_upper = false;
  for (size_t i = 0; i < digits.size(); ++i) {
    char c = digits[i];
    int v = HexValue(c);
    if (v < 0) {
      return absl::InvalidArgumentError("address has a non-hex character at position " +
                                        std::to_string(i + 2));
    }
    if (c >= 'a' && c <= 'f') has_lower = true;
    if (c >= 'A' && c <= 'F') has_upper = true;
    if (i % 2 == 0) {
      a.bytes_[i / 2] = static_cast<uint8_t>(v << 4);
    } else {
      a.bytes_[i / 2] |= static_cast<uint8_t>(v);
    }
  }
  if (has_lower && has_upper) {
    std::string expected = ChecksumDigits(a.bytes_);
    if (!std::equal(expected.begin(), expected.end(), digits.begin())) {
      return absl::InvalidArgumentError(
          "address has mixed case but the EIP-55 checksum does not match (expected 0x" + expected +
          "); check for a typo");
    }
  }
  return a;
}

Address Address::FromPublicKey(const crypto::Secp256k1PublicKey& public_key) {
  crypto::Hash256 h = crypto::Keccak256(std::span<const uint8_t>(public_key).subspan(1));
  Address a;
  std::copy(h.begin() + 12, h.end(), a.bytes_.begin());
  return a;
}

Address Address::FromBytes(std::span<const uint8_t, kSize> bytes) {
  Address a;
  std::copy(bytes.begin(), bytes.end(), a.bytes_.begin());
  return a;
}

std::string Address::ToChecksumHex() const { return "0x" + ChecksumDigits(bytes_); }

std::string Address::ToLowerHex() const {
  std::string out = "0x";
  out.reserve(2 + 2 * kSize);
  for (uint8_t b : bytes_) {
    out.push_back(kLowerDigits[b >> 4]);
    out.push_back(kLowerDigits[b & 0x0f]);
  }
  return out;
}

bool Address::IsZero() const {
  return std::all_of(bytes_.begin(), bytes_.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace sigil::eth
