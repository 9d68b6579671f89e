// BinaryWriter / BinaryReader: the big-endian, length-prefixed encoding used
// by the sealed key record and the backup payload (doc/keystore.md,
// doc/backup.md).
//
// BinaryWriter writes into a caller-provided buffer, so secret payloads can
// be built directly in SecretBytes: run it once over an empty span to learn
// the size, allocate, then run it again. BinaryReader never reads past its
// input: every read checks the remaining length and a failed read makes the
// reader (and every later read) fail.
//
// Thread-compatible value types; neither owns the bytes it points at.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sigil::keystore {

class BinaryWriter {
 public:
  // Writes into `out`. An empty span only counts (size() is the length the
  // writes would need).
  explicit BinaryWriter(std::span<uint8_t> out = {}) : out_(out) {}

  void U8(uint8_t v) { Put(&v, 1); }
  void U16(uint16_t v);
  void U32(uint32_t v);
  void U64(uint64_t v);
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void Raw(std::span<const uint8_t> bytes) { Put(bytes.data(), bytes.size()); }
  // Length-prefixed with a u8, u16 or u32 length. REQUIRES: the length fits.
  void Bytes8(std::span<const uint8_t> bytes);
  void Bytes16(std::span<const uint8_t> bytes);
  void Bytes32(std::span<const uint8_t> bytes);
  void String8(std::string_view s) { Bytes8(AsSpan(s)); }
  void String16(std::string_view s) { Bytes16(AsSpan(s)); }

  size_t size() const { return size_; }
  // False if a write did not fit in a non-empty output buffer.
  bool ok() const { return !overflow_; }

 private:
  static std::span<const uint8_t> AsSpan(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
  }
  void Put(const uint8_t* p, size_t n);

  std::span<uint8_t> out_;
  size_t size_ = 0;
  bool overflow_ = false;
};

class BinaryReader {
 public:
  explicit BinaryReader(std::span<const uint8_t> in) : in_(in) {}

  bool U8(uint8_t* v);
  bool U16(uint16_t* v);
  bool U32(uint32_t* v);
  bool U64(uint64_t* v);
  bool I64(int64_t* v);
  bool Raw(size_t n, std::span<const uint8_t>* out);
  bool Bytes8(std::span<const uint8_t>* out);
  bool Bytes16(std::span<const uint8_t>* out);
  bool Bytes32(std::span<const uint8_t>* out);
  bool String8(std::string_view* out);
  bool String16(std::string_view* out);

  size_t position() const { return pos_; }
  size_t remaining() const { return in_.size() - pos_; }
  // True if no read failed and every byte was consumed.
  bool AtEnd() const { return ok_ && pos_ == in_.size(); }
  bool ok() const { return ok_; }

 private:
  bool Take(size_t n, const uint8_t** p);

  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace sigil::keystore
