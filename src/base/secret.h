// SecretBytes: the one type for private keys, seeds, passphrases and tokens.
//
// Security contract:
//  * The bytes live in page-locked memory (mlock) that is excluded from core
//    dumps (MADV_DONTDUMP), and are wiped when the object dies or is moved from.
//  * Move-only; no copy constructor. There is no operator<< and no formatter,
//    so a secret cannot reach a log line or an error message by accident.
//  * Reading the bytes needs a SecretAccess token: every place that touches
//    secret bytes can be found with `grep SecretAccess::Get`.
//  * Equality is constant-time in the length of the shorter operand.
//
// Thread-safety: a SecretBytes is not internally synchronised; share it
// read-only between threads or guard it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string_view>

namespace sigil {

// Capability to read secret bytes. Obtained only by SecretAccess::Get().
class SecretAccess {
 public:
  static SecretAccess Get() { return SecretAccess(); }

 private:
  SecretAccess() = default;
};

class SecretBytes {
 public:
  // An empty secret.
  SecretBytes() = default;
  // `size` zero bytes in locked memory.
  static SecretBytes Zeroed(size_t size);
  // Copies `bytes` into locked memory. The caller wipes its own copy.
  static SecretBytes CopyFrom(std::span<const uint8_t> bytes);
  static SecretBytes CopyFrom(std::string_view text);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  // An explicit deep copy (also locked), for the rare place that needs one.
  SecretBytes Clone() const;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  std::span<const uint8_t> Reveal(SecretAccess) const { return {data_, size_}; }
  std::span<uint8_t> RevealMutable(SecretAccess) { return {data_, size_}; }
  std::string_view RevealText(SecretAccess) const {
    return {reinterpret_cast<const char*>(data_), size_};
  }

  friend bool operator==(const SecretBytes& a, const SecretBytes& b);

  // Not printable, not formattable.
  friend std::ostream& operator<<(std::ostream&, const SecretBytes&) = delete;

 private:
  void Release();

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Constant-time comparison of two public-length buffers (tokens, MACs).
bool ConstantTimeEquals(std::span<const uint8_t> a, std::span<const uint8_t> b);

// Overwrites a buffer in a way the compiler may not elide.
void SecureWipe(std::span<uint8_t> bytes);

// True if every secret allocation so far was locked in memory. False when
// mlock failed (e.g. RLIMIT_MEMLOCK); `sigil attest check` reports it.
bool SecretMemoryIsLocked();

}  // namespace sigil
