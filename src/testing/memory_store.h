// MemoryStore: a Store held in process memory, for tests and for offline
// tools that need a scratch store (e.g. `sigil policy test`). It follows the
// whole Store contract (store.h) except durability: everything is lost when
// the object dies.
//
// Thread-safety: thread-safe; one mutex, held for the whole of
// RunTransaction, so transactions are serial. A failed transaction is undone
// from an undo log before the mutex is released.
#pragma once

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "store/store.h"

namespace sigil::store {

class MemoryStore final : public Store {
 public:
  MemoryStore() = default;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  absl::StatusOr<std::optional<Bytes>> Get(std::string_view table, std::string_view key) override;
  absl::StatusOr<std::vector<Entry>> Scan(std::string_view table, const ScanOptions& options) override;
  absl::Status Put(std::string_view table, std::string_view key, std::span<const uint8_t> value) override;
  absl::Status Delete(std::string_view table, std::string_view key) override;
  absl::Status RunTransaction(const TransactionFn& fn) override;

  // Number of keys across all tables (for tests).
  size_t size() const;

 private:
  class MemoryTransaction;
  using Table = std::map<std::string, Bytes, std::less<>>;

  mutable absl::Mutex mu_;
  std::map<std::string, Table, std::less<>> tables_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::store
