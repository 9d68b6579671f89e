// UnsealedKeyCache: a bounded least-recently-used cache of unsealed private
// keys, keyed by (key id, version), so a key is decrypted on first use and
// not again while it stays hot.
//
// Entries are shared_ptr<const SecretBytes>: a signer holding one may keep
// using it after it is evicted; the bytes are wiped when the last holder
// lets go. Capacity 0 disables caching.
//
// Thread-safety: thread-safe (one mutex, never held while signing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/secret.h"

namespace sigil::keystore {

class UnsealedKeyCache {
 public:
  explicit UnsealedKeyCache(size_t capacity) : capacity_(capacity) {}

  // The cached key, or nullptr. Marks it most recently used.
  std::shared_ptr<const SecretBytes> Find(std::string_view id, uint32_t version);
  // Adds (or replaces) an entry, evicting the least recently used beyond capacity.
  void Insert(std::string_view id, uint32_t version, std::shared_ptr<const SecretBytes> key);
  // Drops every version of a key.
  void Erase(std::string_view id);
  // Drops everything.
  void Clear();
  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  struct Node {
    std::string cache_key;
    std::string id;
    std::shared_ptr<const SecretBytes> key;
  };
  static std::string CacheKey(std::string_view id, uint32_t version);

  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::list<Node> lru_ ABSL_GUARDED_BY(mu_);  // front = most recent
  std::unordered_map<std::string, std::list<Node>::iterator> index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::keystore
