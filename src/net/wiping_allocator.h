// WipingAllocator: a std::allocator that overwrites memory with zeros
// (OPENSSL_cleanse, which the compiler may not elide) before handing it back
// to the heap. For buffers that may hold request bytes carrying secrets
// (an imported private key, a bearer token): Beast's read buffer, request
// bodies, the JSON parser's string nodes on the key-import path. A buffer
// that grows reallocates through the allocator, so the old copy is wiped
// too.
//
// Security property: no byte a container held survives its deallocation.
// It does not cover copies made into ordinary containers; callers keep the
// data in WipingAllocator containers end to end, or wipe explicitly
// (WipeString).
//
// Thread-safety: stateless.
#pragma once

#include <openssl/crypto.h>

#include <cstddef>
#include <memory>
#include <string>

namespace sigil::net {

template <typename T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() noexcept = default;
  template <typename U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)

  T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    if (p != nullptr && n != 0) OPENSSL_cleanse(static_cast<void*>(p), n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <typename U>
  bool operator==(const WipingAllocator<U>&) const noexcept {
    return true;
  }
};

using WipingString = std::basic_string<char, std::char_traits<char>, WipingAllocator<char>>;

// Overwrites a string's whole buffer (size and spare capacity, including
// the small-string buffer) with zeros, then empties it. The string keeps its
// capacity, so nothing is freed unwiped.
inline void WipeString(std::string& s) {
  s.resize(s.capacity());
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace sigil::net
