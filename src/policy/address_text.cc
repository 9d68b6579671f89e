#include "policy/address_text.h"

#include "base/hex.h"
#include "crypto/hash.h"

namespace sigil::policy {
namespace {

bool IsHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool AllHex(std::string_view s) {
  for (char c : s) {
    if (!IsHexDigit(c)) return false;
  }
  return true;
}

// Quotes text for a message. (Built with += because GCC 12 warns, wrongly,
// about "literal" + std::string under -O2: -Wrestrict.)
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  out += text;
  out += '"';
  return out;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::string NormalizeAddress(std::string_view text) {
  bool prefixed = text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  bool nostr_hex = text.size() == 64 && AllHex(text);
  std::string out(text);
  if (prefixed || nostr_hex) {
    for (char& c : out) c = Lower(c);
  }
  return out;
}

std::string Eip55Checksum(std::string_view hex40) {
  if (hex40.size() >= 2 && hex40[0] == '0' && (hex40[1] == 'x' || hex40[1] == 'X')) hex40.remove_prefix(2);
  std::string lower(hex40);
  for (char& c : lower) c = Lower(c);
  crypto::Hash256 h = crypto::Keccak256(AsBytes(lower));
  std::string out = "0x";
  for (size_t i = 0; i < lower.size(); ++i) {
    char c = lower[i];
    uint8_t nibble = (i % 2 == 0) ? (h[i / 2] >> 4) : (h[i / 2] & 0x0f);
    if (c >= 'a' && c <= 'f' && nibble >= 8) c = static_cast<char>(c - 'a' + 'A');
    out.push_back(c);
  }
  return out;
}

absl::Status CheckAddressText(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty address");
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    std::string_view digits = text.substr(2);
    if (digits.empty() || !AllHex(digits)) {
      return absl::InvalidArgumentError(Quoted(text.substr(0, 80)) + " is not hex");
    }
    if (digits.size() != 40) {
      return absl::InvalidArgumentError(Quoted(text.substr(0, 80)) + " has " + std::to_string(digits.size()) +
                                        " hex digits; an Ethereum address has exactly 40");
    }
    bool has_upper = false, has_lower = false;
    for (char c : digits) {
      has_upper |= (c >= 'A' && c <= 'F');
      has_lower |= (c >= 'a' && c <= 'f');
    }
    if (has_upper && has_lower) {
      std::string expected = Eip55Checksum(digits);
      if (expected.substr(2) != digits) {
        return absl::InvalidArgumentError("address " + std::string(text) +
                                          " has a wrong EIP-55 checksum (a typo?); the checksummed form of "
                                          "these digits is " + expected +
                                          ", or write the address in lower case");
      }
    }
    return absl::OkStatus();
  }
  if (text.size() == 40 && AllHex(text)) {
    return absl::InvalidArgumentError(Quoted(text) +
                                      " looks like an Ethereum address without its prefix; write Ethereum "
                                      "addresses with 0x");
  }
  if (text.size() > 128) return absl::InvalidArgumentError("address is longer than 128 characters");
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("address \"" + std::string(text) + "\" contains a space or control character");
    }
  }
  return absl::OkStatus();
}

}  // namespace sigil::policy
