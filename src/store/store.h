// Store: the transactional key-value table every stateful module uses (the
// keystore's sealed records, the policy ledger, approvals, tokens).
//
// Data model: named tables of (key -> value); keys are byte strings ordered
// by unsigned byte comparison (memcmp), values are opaque bytes. A table
// exists as soon as one key is written to it.
//
// Contract shared by every implementation (SqliteStore; later PostgreSQL;
// MemoryStore and FaultInjectingStore in src/testing):
//  * Get/Scan/Put/Delete on the Store itself each run as one transaction.
//  * RunTransaction(fn) runs fn against a Transaction whose reads see its own
//    writes and whose writes become visible to others all at once, or not at
//    all: if fn returns an error, or the commit fails, nothing it wrote is
//    applied. Transactions are serializable. When RunTransaction returns OK
//    the writes are durable (they survive kill -9 of the process, and for a
//    disk-backed store, a power cut as far as fsync is honoured).
//  * fn may be invoked more than once (a shared-database backend retries on a
//    serialization conflict), so it must have no effects outside the
//    Transaction except ones that are safe to repeat.
//  * Failure codes: InvalidArgument for a bad table name, key or value size
//    (see the limits below); Unavailable when the store cannot be read or
//    written (disk full, I/O error, read-only file, lock timeout) -- the
//    operation had no effect and may be retried later; DataLoss when the
//    stored data is corrupt; any error returned by fn is passed through.
//
// Thread-safety: every implementation is safe to call from many threads.
// REQUIRES: fn never calls the Store it runs in (use the Transaction it is
// given); a Transaction must not escape fn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sigil::store {

using Bytes = std::vector<uint8_t>;

// Limits enforced by every implementation (Invariant 7: every input bounded).
inline constexpr size_t kMaxTableNameSize = 64;   // [a-z0-9_], starts with a letter
inline constexpr size_t kMaxKeySize = 1024;       // 1..1024 bytes, any byte values
inline constexpr size_t kMaxValueSize = 16u << 20;  // 0..16 MiB

struct Entry {
  std::string key;
  Bytes value;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// Which keys a Scan returns, in ascending key order.
struct ScanOptions {
  std::string prefix;       // only keys that start with this ("" = all keys)
  std::string start_after;  // only keys strictly greater ("" = no lower bound): for paging
  size_t limit = 0;         // at most this many entries (0 = no limit)
};

// The view of the store inside one RunTransaction call. Same failure codes as
// the Store methods of the same name.
class Transaction {
 public:
  virtual ~Transaction() = default;

  // The value stored under (table, key), or nullopt if there is none.
  [[nodiscard]] virtual absl::StatusOr<std::optional<Bytes>> Get(std::string_view table,
                                                                 std::string_view key) = 0;
  [[nodiscard]] virtual absl::StatusOr<std::vector<Entry>> Scan(std::string_view table,
                                                                const ScanOptions& options) = 0;
  // Inserts or replaces.
  [[nodiscard]] virtual absl::Status Put(std::string_view table, std::string_view key,
                                         std::span<const uint8_t> value) = 0;
  // Removes the key; OK if it was absent.
  [[nodiscard]] virtual absl::Status Delete(std::string_view table, std::string_view key) = 0;
};

using TransactionFn = std::function<absl::Status(Transaction&)>;

class Store {
 public:
  virtual ~Store() = default;

  [[nodiscard]] virtual absl::StatusOr<std::optional<Bytes>> Get(std::string_view table,
                                                                 std::string_view key) = 0;
  [[nodiscard]] virtual absl::StatusOr<std::vector<Entry>> Scan(std::string_view table,
                                                                const ScanOptions& options) = 0;
  [[nodiscard]] virtual absl::Status Put(std::string_view table, std::string_view key,
                                         std::span<const uint8_t> value) = 0;
  [[nodiscard]] virtual absl::Status Delete(std::string_view table, std::string_view key) = 0;
  // Runs fn atomically and durably (see the contract above).
  [[nodiscard]] virtual absl::Status RunTransaction(const TransactionFn& fn) = 0;
};

// Argument checks every implementation applies (InvalidArgument naming the
// offending table or the size).
absl::Status ValidateTableName(std::string_view table);
absl::Status ValidateKey(std::string_view table, std::string_view key);
absl::Status ValidateValue(std::string_view table, std::string_view key, std::span<const uint8_t> value);

// The smallest byte string greater than every string starting with `prefix`,
// or nullopt if there is none (empty prefix, or all bytes 0xff). Used to turn
// a prefix scan into a key range.
std::optional<std::string> PrefixSuccessor(std::string_view prefix);

// True if `key` is selected by `options` (prefix and start_after; not limit).
bool ScanSelects(const ScanOptions& options, std::string_view key);

}  // namespace sigil::store
