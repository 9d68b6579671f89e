#include "keystore/binary_codec.h"

#include <cstring>

namespace sigil::keystore {

void BinaryWriter::Put(const uint8_t* p, size_t n) {
  if (!out_.empty()) {
    if (size_ + n > out_.size()) {
      overflow_ = true;
    } else if (n > 0) {
      std::memcpy(out_.data() + size_, p, n);
    }
  }
  size_ += n;
}

void BinaryWriter::U16(uint16_t v) {
  uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  Put(b, 2);
}

void BinaryWriter::U32(uint32_t v) {
  uint8_t b[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
                  static_cast<uint8_t>(v)};
  Put(b, 4);
}

void BinaryWriter::U64(uint64_t v) {
  U32(static_cast<uint32_t>(v >> 32));
  U32(static_cast<uint32_t>(v));
}

void BinaryWriter::Bytes8(std::span<const uint8_t> bytes) {
  U8(static_cast<uint8_t>(bytes.size()));
  Raw(bytes);
}

void BinaryWriter::Bytes16(std::span<const uint8_t> bytes) {
  U16(static_cast<uint16_t>(bytes.size()));
  Raw(bytes);
}

void BinaryWriter::Bytes32(std::span<const uint8_t> bytes) {
  U32(static_cast<uint32_t>(bytes.size()));
  Raw(bytes);
}

bool BinaryReader::Take(size_t n, const uint8_t** p) {
  if (!ok_ || n > in_.size() - pos_) {
    ok_ = false;
    return false;
  }
  *p = in_.data() + pos_;
  pos_ += n;
  return true;
}

bool BinaryReader::U8(uint8_t* v) {
  const uint8_t* p;
  if (!Take(1, &p)) return false;
  *v = p[0];
  return true;
}

bool BinaryReader::U16(uint16_t* v) {
  const uint8_t* p;
  if (!Take(2, &p)) return false;
  *v = static_cast<uint16_t>((p[0] << 8) | p[1]);
  return true;
}

bool BinaryReader::U32(uint32_t* v) {
  const uint8_t* p;
  if (!Take(4, &p)) return false;
  *v = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
  return true;
}

bool BinaryReader::U64(uint64_t* v) {
  uint32_t hi = 0, lo = 0;
  if (!U32(&hi) || !U32(&lo)) return false;
  *v = (uint64_t{hi} << 32) | lo;
  return true;
}

bool BinaryReader::I64(int64_t* v) {
  uint64_t u = 0;
  if (!U64(&u)) return false;
  *v = static_cast<int64_t>(u);
  return true;
}

bool BinaryReader::Raw(size_t n, std::span<const uint8_t>* out) {
  const uint8_t* p;
  if (!Take(n, &p)) return false;
  *out = {p, n};
  return true;
}

bool BinaryReader::Bytes8(std::span<const uint8_t>* out) {
  uint8_t n = 0;
  return U8(&n) && Raw(n, out);
}

bool BinaryReader::Bytes16(std::span<const uint8_t>* out) {
  uint16_t n = 0;
  return U16(&n) && Raw(n, out);
}

bool BinaryReader::Bytes32(std::span<const uint8_t>* out) {
  uint32_t n = 0;
  return U32(&n) && Raw(n, out);
}

bool BinaryReader::String8(std::string_view* out) {
  std::span<const uint8_t> b;
  if (!Bytes8(&b)) return false;
  *out = {reinterpret_cast<const char*>(b.data()), b.size()};
  return true;
}

bool BinaryReader::String16(std::string_view* out) {
  std::span<const uint8_t> b;
  if (!Bytes16(&b)) return false;
  *out = {reinterpret_cast<const char*>(b.data()), b.size()};
  return true;
}

}  // namespace sigil::keystore
