#include "base/uint256.h"

#include <algorithm>
#include <cctype>

#include "base/status.h"

namespace sigil {
namespace {

__extension__ typedef unsigned __int128 u128;

std::string_view Strip(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Quote(std::string_view s) {
  std::string out;
  out.push_back('"');
  out.append(s.substr(0, 80));
  out.push_back('"');
  return out;
}

int HexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct Unit {
  std::string_view name;
  unsigned decimals;
};
constexpr Unit kUnits[] = {{"wei", 0},    {"kwei", 3},   {"mwei", 6},  {"gwei", 9},
                           {"szabo", 12}, {"finney", 15}, {"ether", 18}, {"eth", 18}};

}  // namespace

Uint256 Uint256::Max() {
  Uint256 v;
  v.limbs_ = {~0ull, ~0ull, ~0ull, ~0ull};
  return v;
}

absl::StatusOr<Uint256> Uint256::FromBigEndian(std::span<const uint8_t> bytes) {
  if (bytes.size() > 32) return absl::InvalidArgumentError("integer is longer than 32 bytes");
  Uint256 v;
  for (size_t i = 0; i < bytes.size(); ++i) {
    size_t bit = (bytes.size() - 1 - i) * 8;
    v.limbs_[bit / 64] |= uint64_t{bytes[i]} << (bit % 64);
  }
  return v;
}

absl::StatusOr<Uint256> Uint256::ParseDecimal(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty number");
  if (text.size() > 78) return absl::OutOfRangeError("number does not fit in 256 bits");
  Uint256 v;
  for (char c : text) {
    if (c < '0' || c > '9') return absl::InvalidArgumentError("invalid decimal digit in " + Quote(text));
    if (v.MulSmallInPlace(10) || v.AddInPlace(Uint256(static_cast<uint64_t>(c - '0')))) {
      return absl::OutOfRangeError("number does not fit in 256 bits");
    }
  }
  return v;
}

absl::StatusOr<Uint256> Uint256::ParseHex(std::string_view text) {
  if (text.size() < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
    return absl::InvalidArgumentError("hex number must start with 0x and have at least one digit");
  }
  text.remove_prefix(2);
  while (text.size() > 1 && text[0] == '0') text.remove_prefix(1);
  if (text.size() > 64) return absl::OutOfRangeError("number does not fit in 256 bits");
  Uint256 v;
  for (size_t i = 0; i < text.size(); ++i) {
    int n = HexNibble(text[i]);
    if (n < 0) return absl::InvalidArgumentError("invalid hex digit in number");
    size_t bit = (text.size() - 1 - i) * 4;
    v.limbs_[bit / 64] |= uint64_t(n) << (bit % 64);
  }
  return v;
}

absl::StatusOr<Uint256> Uint256::ParseInteger(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) return ParseHex(text);
  return ParseDecimal(text);
}

absl::StatusOr<Uint256> Uint256::ParseScaled(std::string_view text, unsigned decimals) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (dot != std::string_view::npos && frac.empty()) return absl::InvalidArgumentError("number ends with a decimal point");
  if (whole.empty()) return absl::InvalidArgumentError("number has no integer part");
  // Trailing zeros of the fraction carry no value.
  while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
  if (frac.size() > decimals) {
    return absl::InvalidArgumentError("amount " + Quote(text) + " is finer than the smallest unit");
  }
  std::string digits(whole);
  digits.append(frac);
  digits.append(decimals - frac.size(), '0');
  for (char c : frac) {
    if (c < '0' || c > '9') return absl::InvalidArgumentError("invalid decimal digit in amount");
  }
  // Leading zeros do not count toward the 78-digit bound.
  size_t nz = digits.find_first_not_of('0');
  return ParseDecimal(nz == std::string::npos ? std::string_view("0") : std::string_view(digits).substr(nz));
}

absl::StatusOr<Uint256> Uint256::ParseAmount(std::string_view text) {
  text = Strip(text);
  if (text.empty()) return absl::InvalidArgumentError("empty amount");
  size_t space = text.find(' ');
  if (space == std::string_view::npos) {
    if (text.find('.') != std::string_view::npos) {
      return absl::InvalidArgumentError("an amount with a fraction needs a unit, e.g. \"0.5 ether\"");
    }
    return ParseInteger(text);
  }
  std::string_view number = text.substr(0, space);
  std::string unit(Strip(text.substr(space + 1)));
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const Unit& u : kUnits) {
    if (unit == u.name) return ParseScaled(number, u.decimals);
  }
  return absl::InvalidArgumentError("unknown unit " + Quote(unit) +
                                                 " (use wei, kwei, mwei, gwei, szabo, finney or ether)");
}

std::array<uint8_t, 32> Uint256::ToBigEndian() const {
  std::array<uint8_t, 32> out{};
  for (size_t i = 0; i < 32; ++i) {
    size_t bit = (31 - i) * 8;
    out[i] = static_cast<uint8_t>(limbs_[bit / 64] >> (bit % 64));
  }
  return out;
}

std::string Uint256::ToMinimalBigEndian() const {
  auto be = ToBigEndian();
  size_t first = 0;
  while (first < 32 && be[first] == 0) ++first;
  return std::string(reinterpret_cast<const char*>(be.data()) + first, 32 - first);
}

std::string Uint256::ToDecimal() const {
  if (IsZero()) return "0";
  Uint256 v = *this;
  std::string out;
  while (!v.IsZero()) out.push_back(static_cast<char>('0' + v.DivSmallInPlace(10)));
  std::reverse(out.begin(), out.end());
  return out;
}

std::string Uint256::ToHexQuantity() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  if (IsZero()) return "0x0";
  std::string out;
  for (int bit = 252; bit >= 0; bit -= 4) {
    int n = static_cast<int>((limbs_[bit / 64] >> (bit % 64)) & 0xf);
    if (out.empty() && n == 0) continue;
    out.push_back(kDigits[n]);
  }
  return "0x" + out;
}

unsigned Uint256::BitLength() const {
  for (int i = 3; i >= 0; --i) {
    if (limbs_[i] != 0) return static_cast<unsigned>(i * 64 + 64 - __builtin_clzll(limbs_[i]));
  }
  return 0;
}

bool Uint256::AddInPlace(const Uint256& o) {
  u128 carry = 0;
  for (size_t i = 0; i < 4; ++i) {
    u128 s = static_cast<u128>(limbs_[i]) + o.limbs_[i] + carry;
    limbs_[i] = static_cast<uint64_t>(s);
    carry = s >> 64;
  }
  return carry != 0;
}

bool Uint256::SubInPlace(const Uint256& o) {
  uint64_t borrow = 0;
  for (size_t i = 0; i < 4; ++i) {
    uint64_t a = limbs_[i];
    uint64_t d = a - o.limbs_[i] - borrow;
    borrow = (a < o.limbs_[i] || (a == o.limbs_[i] && borrow)) ? 1 : 0;
    limbs_[i] = d;
  }
  return borrow != 0;
}

bool Uint256::MulSmallInPlace(uint64_t m) {
  u128 carry = 0;
  for (size_t i = 0; i < 4; ++i) {
    u128 p = static_cast<u128>(limbs_[i]) * m + carry;
    limbs_[i] = static_cast<uint64_t>(p);
    carry = p >> 64;
  }
  return carry != 0;
}

uint64_t Uint256::DivSmallInPlace(uint64_t d) {
  u128 rem = 0;
  for (int i = 3; i >= 0; --i) {
    u128 cur = (rem << 64) | limbs_[i];
    limbs_[i] = static_cast<uint64_t>(cur / d);
    rem = cur % d;
  }
  return static_cast<uint64_t>(rem);
}

absl::StatusOr<Uint256> Uint256::Add(const Uint256& o) const {
  Uint256 r = *this;
  if (r.AddInPlace(o)) return absl::OutOfRangeError("256-bit addition overflows");
  return r;
}

absl::StatusOr<Uint256> Uint256::Sub(const Uint256& o) const {
  Uint256 r = *this;
  if (r.SubInPlace(o)) return absl::OutOfRangeError("256-bit subtraction underflows");
  return r;
}

absl::StatusOr<Uint256> Uint256::Mul(const Uint256& o) const {
  std::array<uint64_t, 8> wide{};
  for (size_t i = 0; i < 4; ++i) {
    u128 carry = 0;
    for (size_t j = 0; j < 4; ++j) {
      u128 p = static_cast<u128>(limbs_[i]) * o.limbs_[j] + wide[i + j] + carry;
      wide[i + j] = static_cast<uint64_t>(p);
      carry = p >> 64;
    }
    wide[i + 4] = static_cast<uint64_t>(carry);
  }
  if (wide[4] | wide[5] | wide[6] | wide[7]) return absl::OutOfRangeError("256-bit multiplication overflows");
  Uint256 r;
  r.limbs_ = {wide[0], wide[1], wide[2], wide[3]};
  return r;
}

absl::StatusOr<Uint256> Uint256::Div(const Uint256& o) const {
  if (o.IsZero()) return absl::InvalidArgumentError("division by zero");
  if (o.FitsUint64()) {
    Uint256 q = *this;
    q.DivSmallInPlace(o.limbs_[0]);
    return q;
  }
  // Shift-subtract long division; divisors above 64 bits are rare here.
  Uint256 q, r;
  for (int bit = static_cast<int>(BitLength()) - 1; bit >= 0; --bit) {
    r.MulSmallInPlace(2);
    if ((limbs_[bit / 64] >> (bit % 64)) & 1) r.limbs_[0] |= 1;
    if (r >= o) {
      r.SubInPlace(o);
      q.limbs_[bit / 64] |= uint64_t{1} << (bit % 64);
    }
  }
  return q;
}

Uint256 Uint256::SaturatingAdd(const Uint256& o) const {
  Uint256 r = *this;
  return r.AddInPlace(o) ? Max() : r;
}

Uint256 Uint256::SaturatingSub(const Uint256& o) const {
  Uint256 r = *this;
  return r.SubInPlace(o) ? Uint256() : r;
}

std::strong_ordering operator<=>(const Uint256& a, const Uint256& b) {
  for (int i = 3; i >= 0; --i) {
    if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] <=> b.limbs_[i];
  }
  return std::strong_ordering::equal;
}

}  // namespace sigil
