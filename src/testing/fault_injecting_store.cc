#include "testing/fault_injecting_store.h"

#include <string>

#include "base/status.h"

namespace sigil::store {

// Sees the writes made inside a transaction so they count like any other.
class FaultInjectingStore::FaultTransaction final : public ForwardingTransaction {
 public:
  FaultTransaction(Transaction& base, FaultInjectingStore& store) : ForwardingTransaction(base), store_(store) {}

  absl::StatusOr<std::optional<Bytes>> Get(std::string_view table, std::string_view key) override {
    RETURN_IF_ERROR(store_.ReadFault("read"));
    return ForwardingTransaction::Get(table, key);
  }
  absl::StatusOr<std::vector<Entry>> Scan(std::string_view table, const ScanOptions& options) override {
    RETURN_IF_ERROR(store_.ReadFault("scan"));
    return ForwardingTransaction::Scan(table, options);
  }
  absl::Status Put(std::string_view table, std::string_view key, std::span<const uint8_t> value) override {
    RETURN_IF_ERROR(store_.NextWrite("write"));
    return ForwardingTransaction::Put(table, key, value);
  }
  absl::Status Delete(std::string_view table, std::string_view key) override {
    RETURN_IF_ERROR(store_.NextWrite("delete"));
    return ForwardingTransaction::Delete(table, key);
  }

 private:
  FaultInjectingStore& store_;
};

void FaultInjectingStore::FailNthWrite(int n) {
  absl::MutexLock lock(&mu_);
  fail_nth_write_ = writes_ + n;
}

void FaultInjectingStore::FailWritesFrom(int n) {
  absl::MutexLock lock(&mu_);
  fail_writes_from_ = writes_ + n;
}

void FaultInjectingStore::FailCommitsFrom(int n) {
  absl::MutexLock lock(&mu_);
  fail_commits_from_ = commits_ + n;
}

void FaultInjectingStore::FailReads(bool fail) {
  absl::MutexLock lock(&mu_);
  fail_reads_ = fail;
}

void FaultInjectingStore::Heal() {
  absl::MutexLock lock(&mu_);
  writes_ = commits_ = 0;
  fail_nth_write_ = fail_writes_from_ = fail_commits_from_ = 0;
  fail_reads_ = false;
}

int FaultInjectingStore::writes_seen() const {
  absl::MutexLock lock(&mu_);
  return writes_;
}

int FaultInjectingStore::faults_injected() const {
  absl::MutexLock lock(&mu_);
  return faults_;
}

absl::Status FaultInjectingStore::NextWrite(std::string_view what) {
  absl::MutexLock lock(&mu_);
  ++writes_;
  bool fail = writes_ == fail_nth_write_ || (fail_writes_from_ != 0 && writes_ >= fail_writes_from_);
  if (!fail) return absl::OkStatus();
  ++faults_;
  return absl::UnavailableError("store: injected fault: " + std::string(what) + " #" + std::to_string(writes_) +
                                " failed (disk full)");
}

absl::Status FaultInjectingStore::NextCommit() {
  absl::MutexLock lock(&mu_);
  ++commits_;
  if (fail_commits_from_ == 0 || commits_ < fail_commits_from_) return absl::OkStatus();
  ++faults_;
  return absl::UnavailableError("store: injected fault: commit #" + std::to_string(commits_) +
                                " failed (disk full)");
}

absl::Status FaultInjectingStore::ReadFault(std::string_view what) {
  absl::MutexLock lock(&mu_);
  if (!fail_reads_) return absl::OkStatus();
  ++faults_;
  return absl::UnavailableError("store: injected fault: " + std::string(what) + " failed (I/O error)");
}

absl::StatusOr<std::optional<Bytes>> FaultInjectingStore::Get(std::string_view table, std::string_view key) {
  RETURN_IF_ERROR(ReadFault("read"));
  return ForwardingStore::Get(table, key);
}

absl::StatusOr<std::vector<Entry>> FaultInjectingStore::Scan(std::string_view table, const ScanOptions& options) {
  RETURN_IF_ERROR(ReadFault("scan"));
  return ForwardingStore::Scan(table, options);
}

absl::Status FaultInjectingStore::Put(std::string_view table, std::string_view key, std::span<const uint8_t> value) {
  RETURN_IF_ERROR(NextWrite("write"));
  return ForwardingStore::Put(table, key, value);
}

absl::Status FaultInjectingStore::Delete(std::string_view table, std::string_view key) {
  RETURN_IF_ERROR(NextWrite("delete"));
  return ForwardingStore::Delete(table, key);
}

absl::Status FaultInjectingStore::RunTransaction(const TransactionFn& fn) {
  return ForwardingStore::RunTransaction([&](Transaction& tx) -> absl::Status {
    FaultTransaction faulty(tx, *this);
    RETURN_IF_ERROR(fn(faulty));
    // Failing here, after fn, makes the wrapped store roll everything back.
    return NextCommit();
  });
}

}  // namespace sigil::store
