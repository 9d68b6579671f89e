#include "base/secret.h"

#include <sodium.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <mutex>
#include <vector>

namespace sigil {
namespace {

// Secrets are small (keys, seeds, tokens) and a keystore may hold many, so
// allocating each with its own mmap would exhaust vm.max_map_count. A slab
// arena carves fixed-size slots out of locked, non-dumpable chunks instead.
constexpr std::array<size_t, 7> kClasses = {32, 64, 128, 256, 512, 1024, 4096};
constexpr size_t kChunkSize = 256 * 1024;

std::atomic<bool> g_all_locked{true};

void* MapLocked(size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
#ifdef MADV_DONTDUMP
  madvise(p, size, MADV_DONTDUMP);
#endif
  if (mlock(p, size) != 0) g_all_locked.store(false, std::memory_order_relaxed);
  return p;
}

class SecretArena {
 public:
  static SecretArena& Instance() {
    static SecretArena* arena = new SecretArena();  // never destroyed: secrets may outlive statics
    return *arena;
  }

  uint8_t* Allocate(size_t size, size_t* capacity) {
    size_t cls = ClassFor(size);
    if (cls == kClasses.size()) {
      size_t rounded = (size + 4095) & ~size_t{4095};
      auto* p = static_cast<uint8_t*>(MapLocked(rounded));
      if (p == nullptr) std::abort();  // out of memory for secrets: nothing safe to do
      *capacity = rounded;
      return p;
    }
    *capacity = kClasses[cls];
    std::lock_guard<std::mutex> lock(mu_);
    auto& free_list = free_[cls];
    if (free_list.empty()) {
      auto* chunk = static_cast<uint8_t*>(MapLocked(kChunkSize));
      if (chunk == nullptr) std::abort();
      for (size_t off = 0; off + kClasses[cls] <= kChunkSize; off += kClasses[cls]) {
        free_list.push_back(chunk + off);
      }
    }
    uint8_t* p = free_list.back();
    free_list.pop_back();
    return p;
  }

  void Free(uint8_t* p, size_t capacity) {
    sodium_memzero(p, capacity);
    size_t cls = ClassFor(capacity);
    if (cls == kClasses.size() || kClasses[cls] != capacity) {
      munlock(p, capacity);
      munmap(p, capacity);
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    free_[cls].push_back(p);
  }

 private:
  static size_t ClassFor(size_t size) {
    for (size_t i = 0; i < kClasses.size(); ++i) {
      if (size <= kClasses[i]) return i;
    }
    return kClasses.size();
  }

  std::mutex mu_;
  std::array<std::vector<uint8_t*>, kClasses.size()> free_;
};

}  // namespace

SecretBytes SecretBytes::Zeroed(size_t size) {
  SecretBytes s;
  if (size == 0) return s;
  s.data_ = SecretArena::Instance().Allocate(size, &s.capacity_);
  std::memset(s.data_, 0, s.capacity_);
  s.size_ = size;
  return s;
}

SecretBytes SecretBytes::CopyFrom(std::span<const uint8_t> bytes) {
  SecretBytes s = Zeroed(bytes.size());
  if (!bytes.empty()) std::memcpy(s.data_, bytes.data(), bytes.size());
  return s;
}

SecretBytes SecretBytes::CopyFrom(std::string_view text) {
  return CopyFrom(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(other.data_), size_(other.size_), capacity_(other.capacity_) {
  other.data_ = nullptr;
  other.size_ = 0;
  other.capacity_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = other.data_;
    size_ = other.size_;
    capacity_ = other.capacity_;
    other.data_ = nullptr;
    other.size_ = 0;
    other.capacity_ = 0;
  }
  return *this;
}

SecretBytes::~SecretBytes() { Release(); }

void SecretBytes::Release() {
  if (data_ != nullptr) SecretArena::Instance().Free(data_, capacity_);
  data_ = nullptr;
  size_ = 0;
  capacity_ = 0;
}

SecretBytes SecretBytes::Clone() const { return CopyFrom(std::span<const uint8_t>(data_, size_)); }

bool operator==(const SecretBytes& a, const SecretBytes& b) {
  return ConstantTimeEquals({a.data_, a.size_}, {b.data_, b.size_});
}

bool ConstantTimeEquals(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  // Lengths are not secret; contents are compared without early exit.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void SecureWipe(std::span<uint8_t> bytes) {
  if (!bytes.empty()) sodium_memzero(bytes.data(), bytes.size());
}

bool SecretMemoryIsLocked() { return g_all_locked.load(std::memory_order_relaxed); }

}  // namespace sigil
