// ForwardingStore: a Store that passes every call to another Store. Derive
// from it to change one behaviour (fault injection, metrics, auditing)
// without restating the rest, as leveldb's EnvWrapper does.
//
// Ownership: borrows `base`, which must outlive the ForwardingStore.
// Thread-safety: as thread-safe as `base`.
#pragma once

#include "store/store.h"

namespace sigil::store {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store& base) : base_(base) {}

  absl::StatusOr<std::optional<Bytes>> Get(std::string_view table, std::string_view key) override {
    return base_.Get(table, key);
  }
  absl::StatusOr<std::vector<Entry>> Scan(std::string_view table, const ScanOptions& options) override {
    return base_.Scan(table, options);
  }
  absl::Status Put(std::string_view table, std::string_view key, std::span<const uint8_t> value) override {
    return base_.Put(table, key, value);
  }
  absl::Status Delete(std::string_view table, std::string_view key) override { return base_.Delete(table, key); }
  absl::Status RunTransaction(const TransactionFn& fn) override { return base_.RunTransaction(fn); }

 protected:
  Store& base() { return base_; }

 private:
  Store& base_;
};

// The same idea for a Transaction, for decorators that also need to see the
// reads and writes made inside RunTransaction.
class ForwardingTransaction : public Transaction {
 public:
  explicit ForwardingTransaction(Transaction& base) : base_(base) {}

  absl::StatusOr<std::optional<Bytes>> Get(std::string_view table, std::string_view key) override {
    return base_.Get(table, key);
  }
  absl::StatusOr<std::vector<Entry>> Scan(std::string_view table, const ScanOptions& options) override {
    return base_.Scan(table, options);
  }
  absl::Status Put(std::string_view table, std::string_view key, std::span<const uint8_t> value) override {
    return base_.Put(table, key, value);
  }
  absl::Status Delete(std::string_view table, std::string_view key) override { return base_.Delete(table, key); }

 protected:
  Transaction& base() { return base_; }

 private:
  Transaction& base_;
};

}  // namespace sigil::store
