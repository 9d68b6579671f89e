#include "base/hex.h"

#include "absl/status/status.h"
#include "base/status.h"

namespace sigil {
namespace {
constexpr char kDigits[] = "0123456789abcdef";

int Nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string HexEncode(std::span<const uint8_t> bytes) {
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

std::string HexEncode0x(std::span<const uint8_t> bytes) { return "0x" + HexEncode(bytes); }

absl::Status HexDecodeInto(std::string_view hex, std::span<uint8_t> out) {
  if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  if (hex.size() % 2 != 0) return absl::InvalidArgumentError("hex string has an odd number of digits");
  if (hex.size() / 2 != out.size()) return absl::InvalidArgumentError("hex string has the wrong length");
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = Nibble(hex[2 * i]);
    int lo = Nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return absl::InvalidArgumentError("hex string has a non-hex character");
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return absl::OkStatus();
}

absl::StatusOr<Bytes> HexDecode(std::string_view hex) {
  const size_t digits = hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X') ? hex.size() - 2 : hex.size();
  Bytes out(digits / 2);
  RETURN_IF_ERROR(HexDecodeInto(hex, out));
  return out;
}

}  // namespace sigil
