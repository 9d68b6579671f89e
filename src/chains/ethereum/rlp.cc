#include "chains/ethereum/rlp.h"

#include <array>
#include <string>

namespace sigil::eth {
namespace {

Bytes MinimalBigEndian(uint64_t v) {
  Bytes out;
  for (int shift = 56; shift >= 0; shift -= 8) {
    uint8_t b = static_cast<uint8_t>(v >> shift);
    if (!out.empty() || b != 0) out.push_back(b);
  }
  return out;
}

size_t LengthOfLength(size_t len) {
  size_t n = 0;
  while (len != 0) {
    ++n;
    len >>= 8;
  }
  return n;
}

size_t HeaderSize(size_t payload_len) { return payload_len <= 55 ? 1 : 1 + LengthOfLength(payload_len); }

void AppendHeader(size_t payload_len, uint8_t short_base, Bytes& out) {
  if (payload_len <= 55) {
    out.push_back(static_cast<uint8_t>(short_base + payload_len));
    return;
  }
  size_t lol = LengthOfLength(payload_len);
  out.push_back(static_cast<uint8_t>(short_base + 55 + lol));
  for (size_t i = lol; i-- > 0;) out.push_back(static_cast<uint8_t>(payload_len >> (8 * i)));
}

size_t PayloadSize(const RlpItem& item) {
  if (item.is_bytes()) {
    const Bytes& b = item.bytes();
    if (b.size() == 1 && b[0] < 0x80) return 0;  // encoded as itself, no header
    return b.size();
  }
  size_t total = 0;
  for (const RlpItem& child : item.items()) total += RlpEncodedSize(child);
  return total;
}

std::string At(size_t offset) { return "rlp: at offset " + std::to_string(offset) + ": "; }

class Decoder {
 public:
  Decoder(std::span<const uint8_t> in, const RlpLimits& limits) : in_(in), limits_(limits) {}

  // Decodes one item starting at `pos`, which must end at or before `end`.
  // On success `pos` is just past the item.
  absl::StatusOr<RlpItem> Item(size_t& pos, size_t end, int depth) {
    if (pos >= end) return absl::InvalidArgumentError(At(pos) + "unexpected end of input");
    const size_t start = pos;
    const uint8_t prefix = in_[pos];
    if (prefix < 0x80) {
      ++pos;
      return RlpItem::FromBytes(in_.subspan(start, 1));
    }
    bool is_list = prefix >= 0xc0;
    uint8_t base = is_list ? 0xc0 : 0x80;
    size_t payload_len;
    size_t header_len;
    if (prefix - base <= 55) {
      payload_len = prefix - base;
      header_len = 1;
    } else {
      size_t lol = prefix - base - 55;  // 1..8
      if (end - start < 1 + lol) {
        return absl::InvalidArgumentError(At(start) + "length header runs past the end of the input");
      }
      if (in_[start + 1] == 0) {
        return absl::InvalidArgumentError(At(start) + "non-canonical length (leading zero byte)");
      }
      uint64_t len = 0;
      for (size_t i = 0; i < lol; ++i) len = (len << 8) | in_[start + 1 + i];
      if (len <= 55) {
        return absl::InvalidArgumentError(At(start) + "non-canonical length (long form used for " +
                                          std::to_string(len) + " bytes; must be > 55)");
      }
      payload_len = static_cast<size_t>(len);
      if (len != payload_len) {  // only on 32-bit size_t
        return absl::InvalidArgumentError(At(start) + "length too large");
      }
      header_len = 1 + lol;
    }
    // Both header forms checked above that the header itself fits.
    size_t available = end - start - header_len;
    if (payload_len > available) {
      return absl::InvalidArgumentError(At(start) + "declared length " + std::to_string(payload_len) +
                                        " runs past the end of the enclosing item (" +
                                        std::to_string(available) + " bytes left)");
    }
    size_t payload_start = start + header_len;
    size_t payload_end = payload_start + payload_len;
    if (!is_list) {
      if (payload_len == 1 && in_[payload_start] < 0x80) {
        return absl::InvalidArgumentError(At(start) + "non-canonical single byte 0x" +
                                          HexEncode(in_.subspan(payload_start, 1)) +
                                          " must be encoded as itself");
      }
      pos = payload_end;
      return RlpItem::FromBytes(in_.subspan(payload_start, payload_len));
    }
    if (depth + 1 > limits_.max_depth) {
      return absl::InvalidArgumentError(At(start) + "lists nested deeper than " +
                                        std::to_string(limits_.max_depth));
    }
    std::vector<RlpItem> children;
    size_t p = payload_start;
    while (p < payload_end) {
      auto child = Item(p, payload_end, depth + 1);
      if (!child.ok()) return child.status();
      children.push_back(*std::move(child));
    }
    pos = payload_end;
    return RlpItem::List(std::move(children));
  }

 private:
  std::span<const uint8_t> in_;
  const RlpLimits& limits_;
};

}  // namespace

RlpItem RlpItem::FromBytes(std::span<const uint8_t> bytes) {
  RlpItem item;
  item.value_ = Bytes(bytes.begin(), bytes.end());
  return item;
}

RlpItem RlpItem::FromBytes(Bytes&& bytes) {
  RlpItem item;
  item.value_ = std::move(bytes);
  return item;
}

RlpItem RlpItem::FromString(std::string_view text) { return FromBytes(AsBytes(text)); }

RlpItem RlpItem::FromUint(uint64_t value) { return FromBytes(MinimalBigEndian(value)); }

RlpItem RlpItem::FromUint(const Uint256& value) {
  std::string s = value.ToMinimalBigEndian();
  return FromBytes(AsBytes(s));
}

RlpItem RlpItem::List(std::vector<RlpItem> items) {
  RlpItem item;
  item.value_ = std::move(items);
  return item;
}

size_t RlpEncodedSize(const RlpItem& item) {
  size_t payload = PayloadSize(item);
  if (item.is_bytes() && item.bytes().size() == 1 && item.bytes()[0] < 0x80) return 1;
  return HeaderSize(payload) + payload;
}

void RlpEncodeTo(const RlpItem& item, Bytes& out) {
  if (item.is_bytes()) {
    const Bytes& b = item.bytes();
    if (b.size() == 1 && b[0] < 0x80) {
      out.push_back(b[0]);
      return;
    }
    AppendHeader(b.size(), 0x80, out);
    out.insert(out.end(), b.begin(), b.end());
    return;
  }
  AppendHeader(PayloadSize(item), 0xc0, out);
  for (const RlpItem& child : item.items()) RlpEncodeTo(child, out);
}

Bytes RlpEncode(const RlpItem& item) {
  Bytes out;
  out.reserve(RlpEncodedSize(item));
  RlpEncodeTo(item, out);
  return out;
}

void RlpAppendString(std::span<const uint8_t> bytes, Bytes& out) {
  if (bytes.size() == 1 && bytes[0] < 0x80) {
    out.push_back(bytes[0]);
    return;
  }
  AppendHeader(bytes.size(), 0x80, out);
  out.insert(out.end(), bytes.begin(), bytes.end());
}

void RlpAppendUint(uint64_t value, Bytes& out) {
  uint8_t be[8];
  size_t n = 0;
  for (int shift = 56; shift >= 0; shift -= 8) {
    uint8_t b = static_cast<uint8_t>(value >> shift);
    if (n != 0 || b != 0) be[n++] = b;
  }
  RlpAppendString(std::span<const uint8_t>(be, n), out);
}

void RlpAppendUint(const Uint256& value, Bytes& out) {
  std::array<uint8_t, 32> be = value.ToBigEndian();
  size_t first = 0;
  while (first < be.size() && be[first] == 0) ++first;
  RlpAppendString(std::span<const uint8_t>(be).subspan(first), out);
}

void RlpAppendListHeader(size_t payload_size, Bytes& out) { AppendHeader(payload_size, 0xc0, out); }

size_t RlpStringSize(std::span<const uint8_t> bytes) {
  if (bytes.size() == 1 && bytes[0] < 0x80) return 1;
  return HeaderSize(bytes.size()) + bytes.size();
}

size_t RlpUintSize(uint64_t value) {
  if (value < 0x80) return 1;  // zero is 0x80, 1..0x7f are themselves
  size_t n = 0;
  for (uint64_t v = value; v != 0; v >>= 8) ++n;
  return 1 + n;
}

size_t RlpUintSize(const Uint256& value) {
  if (value.FitsUint64()) return RlpUintSize(value.Low64());
  return 1 + (value.BitLength() + 7) / 8;
}

size_t RlpListSize(size_t payload_size) { return HeaderSize(payload_size) + payload_size; }

absl::StatusOr<RlpItem> RlpDecode(std::span<const uint8_t> input, const RlpLimits& limits) {
  if (input.size() > limits.max_input_size) {
    return absl::InvalidArgumentError("rlp: input of " + std::to_string(input.size()) +
                                      " bytes exceeds the limit of " +
                                      std::to_string(limits.max_input_size));
  }
  if (input.empty()) return absl::InvalidArgumentError("rlp: empty input");
  Decoder decoder(input, limits);
  size_t pos = 0;
  auto item = decoder.Item(pos, input.size(), 0);
  if (!item.ok()) return item.status();
  if (pos != input.size()) {
    return absl::InvalidArgumentError(At(pos) + std::to_string(input.size() - pos) +
                                      " trailing bytes after the item");
  }
  return item;
}

namespace {

absl::Status CheckCanonicalInteger(const RlpItem& item, std::string_view what, size_t max_bytes) {
  if (item.is_list()) {
    return absl::InvalidArgumentError(std::string(what) + ": expected an integer, got a list");
  }
  const Bytes& b = item.bytes();
  if (!b.empty() && b[0] == 0) {
    return absl::InvalidArgumentError(std::string(what) +
                                      ": non-canonical integer (leading zero byte)");
  }
  if (b.size() > max_bytes) {
    return absl::InvalidArgumentError(std::string(what) + ": integer of " + std::to_string(b.size()) +
                                      " bytes does not fit " + std::to_string(8 * max_bytes) +
                                      " bits");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> RlpToUint64(const RlpItem& item, std::string_view what) {
  if (absl::Status st = CheckCanonicalInteger(item, what, 8); !st.ok()) return st;
  uint64_t v = 0;
  for (uint8_t b : item.bytes()) v = (v << 8) | b;
  return v;
}

absl::StatusOr<Uint256> RlpToUint256(const RlpItem& item, std::string_view what) {
  if (absl::Status st = CheckCanonicalInteger(item, what, 32); !st.ok()) return st;
  return Uint256::FromBigEndian(item.bytes());
}

}  // namespace sigil::eth
