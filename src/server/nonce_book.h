// NonceBook: the nonces Sigil fills in for eth_sendTransaction, per sending
// address, so concurrent sends from one key do not read the same pending
// count from the node, and a send that never reached the node leaves no gap
// (a gap strands every later transaction of the key).
//
// Per address it keeps a high-water mark (the next nonce never handed out)
// and the nonces handed back. Next() takes a handed-back nonce first, if it
// is not below the node's pending count (then it was used meanwhile), else
// max(high-water mark, pending count). Release() is only for a nonce whose
// transaction did not reach the node; a nonce that may have been broadcast
// must never be released, or a later send would replace that transaction.
//
// Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace sigil::server {

class NonceBook {
 public:
  // At most this many handed-back nonces are kept per address.
  static constexpr size_t kMaxReleased = 1024;

  // The nonce for the next send from `from`, given the node's pending count.
  uint64_t Next(const std::string& from, uint64_t pending);
  // `nonce` (handed out by Next for `from`) did not reach the node.
  void Release(const std::string& from, uint64_t nonce);

 private:
  struct Entry {
    uint64_t next = 0;
    std::set<uint64_t> released;
  };
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::server
