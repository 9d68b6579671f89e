// RLP (Ethereum Yellow Paper, appendix B): encoding and a STRICT decoder.
//
// RlpItem is a value: either a byte string or a list of items. Copyable,
// immutable once built, no shared state; thread-compatible.
//
// The decoder accepts exactly one canonical encoding per value, so for every
// input it accepts, RlpEncode(RlpDecode(x)) == x. It rejects (InvalidArgument,
// the message names the byte offset):
//   * a single byte < 0x80 wrapped in a one-byte string header (0x81 0x05);
//   * a long-form header (0xb8.., 0xf8..) for a payload of <= 55 bytes;
//   * a length-of-length with leading zero bytes;
//   * a payload that runs past the end of its enclosing item or the input;
//   * trailing bytes after the top-level item;
//   * input larger than RlpLimits::max_input_size (checked before parsing);
//   * lists nested deeper than RlpLimits::max_depth.
// Decoding is bounded: time and memory are linear in the input size, and the
// recursion depth is at most max_depth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "base/hex.h"
#include "base/uint256.h"

namespace sigil::eth {

class RlpItem {
 public:
  // The empty byte string (RLP 0x80).
  RlpItem() = default;

  static RlpItem FromBytes(std::span<const uint8_t> bytes);
  static RlpItem FromBytes(Bytes&& bytes);
  static RlpItem FromString(std::string_view text);
  // Canonical integer: big-endian without leading zero bytes; zero is empty.
  static RlpItem FromUint(uint64_t value);
  static RlpItem FromUint(const Uint256& value);
  static RlpItem List(std::vector<RlpItem> items = {});

  bool is_list() const { return std::holds_alternative<std::vector<RlpItem>>(value_); }
  bool is_bytes() const { return !is_list(); }
  // REQUIRES: is_bytes().
  const Bytes& bytes() const { return std::get<Bytes>(value_); }
  // REQUIRES: is_list().
  const std::vector<RlpItem>& items() const { return std::get<std::vector<RlpItem>>(value_); }
  // REQUIRES: is_list(). Appends to this list.
  void Append(RlpItem item) { std::get<std::vector<RlpItem>>(value_).push_back(std::move(item)); }

  friend bool operator==(const RlpItem&, const RlpItem&) = default;

 private:
  std::variant<Bytes, std::vector<RlpItem>> value_;
};

struct RlpLimits {
  // Inputs larger than this are refused before any parsing.
  size_t max_input_size = 128 * 1024;
  // Maximum list nesting; a top-level list is depth 1.
  int max_depth = 16;
};

// Canonical encoding.
Bytes RlpEncode(const RlpItem& item);
// Appends the canonical encoding of `item` to `out`.
void RlpEncodeTo(const RlpItem& item, Bytes& out);
// Size in bytes of RlpEncode(item), without encoding it.
size_t RlpEncodedSize(const RlpItem& item);

// Streaming encoder pieces, for hot paths (transaction signing) that write
// canonical RLP without building an RlpItem tree. A list is written as
// RlpAppendListHeader(payload size) followed by its items; the *Size
// functions give the exact encoded sizes needed for that header.
void RlpAppendString(std::span<const uint8_t> bytes, Bytes& out);
void RlpAppendUint(uint64_t value, Bytes& out);
void RlpAppendUint(const Uint256& value, Bytes& out);
void RlpAppendListHeader(size_t payload_size, Bytes& out);
size_t RlpStringSize(std::span<const uint8_t> bytes);
size_t RlpUintSize(uint64_t value);
size_t RlpUintSize(const Uint256& value);
size_t RlpListSize(size_t payload_size);

// Strict decoder (see the file comment). Exactly one item, no trailing bytes.
absl::StatusOr<RlpItem> RlpDecode(std::span<const uint8_t> input, const RlpLimits& limits = {});

// Reads a canonical integer item: a byte string of at most 8 (resp. 32) bytes
// without a leading zero byte. InvalidArgument (message starts with `what`)
// for a list, a leading zero, or a value too wide.
absl::StatusOr<uint64_t> RlpToUint64(const RlpItem& item, std::string_view what);
absl::StatusOr<Uint256> RlpToUint256(const RlpItem& item, std::string_view what);

}  // namespace sigil::eth
