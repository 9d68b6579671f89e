#include "server/nonce_book.h"

#include <algorithm>
#include <iterator>

namespace sigil::server {

uint64_t NonceBook::Next(const std::string& from, uint64_t pending) {
  absl::MutexLock lock(&mu_);
  Entry& e = entries_[from];
  e.released.erase(e.released.begin(), e.released.lower_bound(pending));
  if (!e.released.empty()) {
    const uint64_t nonce = *e.released.begin();
    e.released.erase(e.released.begin());
    return nonce;
  }
  const uint64_t nonce = std::max(e.next, pending);
  e.next = nonce + 1;
  return nonce;
}

void NonceBook::Release(const std::string& from, uint64_t nonce) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(from);
  if (it == entries_.end() || nonce >= it->second.next) return;
  Entry& e = it->second;
  if (nonce + 1 != e.next) {
    if (e.released.size() < kMaxReleased) e.released.insert(nonce);
    return;
  }
  // The newest one: lower the mark, through any handed-back ones below it.
  e.next = nonce;
  while (!e.released.empty() && *e.released.rbegin() + 1 == e.next) {
    e.next = *e.released.rbegin();
    e.released.erase(std::prev(e.released.end()));
  }
}

}  // namespace sigil::server
