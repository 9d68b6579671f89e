#include "keystore/unsealed_key_cache.h"

namespace sigil::keystore {

std::string UnsealedKeyCache::CacheKey(std::string_view id, uint32_t version) {
  return std::string(id) + "/" + std::to_string(version);
}

std::shared_ptr<const SecretBytes> UnsealedKeyCache::Find(std::string_view id, uint32_t version) {
  absl::MutexLock lock(&mu_);
  auto it = index_.find(CacheKey(id, version));
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->key;
}

void UnsealedKeyCache::Insert(std::string_view id, uint32_t version, std::shared_ptr<const SecretBytes> key) {
  if (capacity_ == 0) return;
  std::string cache_key = CacheKey(id, version);
  std::shared_ptr<const SecretBytes> evicted;  // released after the lock, outside the critical section
  absl::MutexLock lock(&mu_);
  auto it = index_.find(cache_key);
  if (it != index_.end()) {
    it->second->key = std::move(key);
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Node{cache_key, std::string(id), std::move(key)});
  index_[cache_key] = lru_.begin();
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().cache_key);
    evicted = std::move(lru_.back().key);
    lru_.pop_back();
  }
}

void UnsealedKeyCache::Erase(std::string_view id) {
  absl::MutexLock lock(&mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->id == id) {
      index_.erase(it->cache_key);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

void UnsealedKeyCache::Clear() {
  absl::MutexLock lock(&mu_);
  index_.clear();
  lru_.clear();
}

size_t UnsealedKeyCache::size() const {
  absl::MutexLock lock(&mu_);
  return lru_.size();
}

}  // namespace sigil::keystore
