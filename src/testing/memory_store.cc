#include "testing/memory_store.h"

#include <utility>

#include "base/status.h"

namespace sigil::store {

// Applies writes directly to the maps and remembers each key's previous
// value, so a failed transaction can be rolled back in reverse order.
class MemoryStore::MemoryTransaction final : public Transaction {
 public:
  explicit MemoryTransaction(MemoryStore& store) : store_(store) {}

  absl::StatusOr<std::optional<Bytes>> Get(std::string_view table, std::string_view key) override {
    store_.mu_.AssertHeld();
    RETURN_IF_ERROR(ValidateKey(table, key));
    auto t = store_.tables_.find(table);
    if (t == store_.tables_.end()) return std::optional<Bytes>();
    auto it = t->second.find(key);
    if (it == t->second.end()) return std::optional<Bytes>();
    return std::optional<Bytes>(it->second);
  }

  absl::StatusOr<std::vector<Entry>> Scan(std::string_view table, const ScanOptions& options) override {
    store_.mu_.AssertHeld();
    RETURN_IF_ERROR(ValidateTableName(table));
    std::vector<Entry> out;
    auto t = store_.tables_.find(table);
    if (t == store_.tables_.end()) return out;
    for (auto it = t->second.lower_bound(options.prefix); it != t->second.end(); ++it) {
      if (std::string_view(it->first).substr(0, options.prefix.size()) != options.prefix) break;
      if (!ScanSelects(options, it->first)) continue;
      out.push_back(Entry{it->first, it->second});
      if (options.limit != 0 && out.size() == options.limit) break;
    }
    return out;
  }

  absl::Status Put(std::string_view table, std::string_view key, std::span<const uint8_t> value) override {
    store_.mu_.AssertHeld();
    RETURN_IF_ERROR(ValidateValue(table, key, value));
    Remember(table, key);
    store_.tables_[std::string(table)][std::string(key)] = Bytes(value.begin(), value.end());
    return absl::OkStatus();
  }

  absl::Status Delete(std::string_view table, std::string_view key) override {
    store_.mu_.AssertHeld();
    RETURN_IF_ERROR(ValidateKey(table, key));
    Remember(table, key);
    auto t = store_.tables_.find(table);
    if (t != store_.tables_.end()) t->second.erase(std::string(key));
    return absl::OkStatus();
  }

  void Rollback() {
    store_.mu_.AssertHeld();
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      Table& t = store_.tables_[it->table];
      if (it->previous.has_value()) {
        t[it->key] = std::move(*it->previous);
      } else {
        t.erase(it->key);
      }
    }
    undo_.clear();
  }

 private:
  struct Undo {
    std::string table;
    std::string key;
    std::optional<Bytes> previous;
  };

  void Remember(std::string_view table, std::string_view key) {
    store_.mu_.AssertHeld();
    Undo u{std::string(table), std::string(key), std::nullopt};
    auto t = store_.tables_.find(table);
    if (t != store_.tables_.end()) {
      auto it = t->second.find(key);
      if (it != t->second.end()) u.previous = it->second;
    }
    undo_.push_back(std::move(u));
  }

  MemoryStore& store_;
  std::vector<Undo> undo_;
};

absl::StatusOr<std::optional<Bytes>> MemoryStore::Get(std::string_view table, std::string_view key) {
  absl::MutexLock lock(&mu_);
  MemoryTransaction tx(*this);
  return tx.Get(table, key);
}

absl::StatusOr<std::vector<Entry>> MemoryStore::Scan(std::string_view table, const ScanOptions& options) {
  absl::MutexLock lock(&mu_);
  MemoryTransaction tx(*this);
  return tx.Scan(table, options);
}

absl::Status MemoryStore::Put(std::string_view table, std::string_view key, std::span<const uint8_t> value) {
  absl::MutexLock lock(&mu_);
  MemoryTransaction tx(*this);
  return tx.Put(table, key, value);
}

absl::Status MemoryStore::Delete(std::string_view table, std::string_view key) {
  absl::MutexLock lock(&mu_);
  MemoryTransaction tx(*this);
  return tx.Delete(table, key);
}

absl::Status MemoryStore::RunTransaction(const TransactionFn& fn) {
  absl::MutexLock lock(&mu_);
  MemoryTransaction tx(*this);
  absl::Status st = fn(tx);
  if (!st.ok()) tx.Rollback();
  return st;
}

size_t MemoryStore::size() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [name, table] : tables_) n += table.size();
  return n;
}

}  // namespace sigil::store
