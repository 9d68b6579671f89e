#include "policy/ledger.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "base/status.h"

namespace sigil::policy {
namespace {

std::string AccountKey(const std::string& name, absl::Duration window) {
  std::string key = name;
  key.push_back('\x1f');
  key += std::to_string(absl::ToInt64Seconds(window));
  return key;
}

absl::Status CheckCharge(const BudgetCharge& c) {
  if (c.account.empty()) return absl::InvalidArgumentError("budget charge has an empty account");
  if (c.window < absl::Seconds(1)) return absl::InvalidArgumentError("budget window must be at least 1s");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(LedgerJournal& journal, const Clock& clock,
                                                      LedgerOptions options) {
  std::unique_ptr<Ledger> ledger(new Ledger(journal, clock, options));
  size_t records = 0, live = 0;
  RETURN_IF_ERROR(ledger->Load(&records, &live));
  // A journal mostly made of spending that no longer counts is rewritten at
  // start-up. If that fails the old journal is still complete; carry on.
  ledger->journal_records_ = records;
  {
    absl::MutexLock compact_lock(&ledger->compact_mu_);
    ledger->records_after_compaction_ = records;
  }
  if (records > kCompactAtStartupRecords && records > 2 * live) (void)ledger->Compact();
  return ledger;
}

absl::Status Ledger::Load(size_t* record_count, size_t* live_entries) {
  ASSIGN_OR_RETURN(std::vector<LedgerRecord> records, journal_.ReadAll());
  absl::flat_hash_set<ReservationId> released;
  absl::flat_hash_set<ReservationId> seen;
  std::vector<const LedgerRecord*> reserves;
  ReservationId next = 1;
  for (const LedgerRecord& r : records) {
    switch (r.type) {
      case LedgerRecord::Type::kReserve:
        // Compaction may race an append and leave a reservation twice.
        if (seen.insert(r.id).second) reserves.push_back(&r);
        next = std::max(next, r.id + 1);
        break;
      case LedgerRecord::Type::kRelease:
        released.insert(r.id);
        break;
      case LedgerRecord::Type::kCommit:
        break;
      case LedgerRecord::Type::kIdFloor:
        next = std::max(next, r.id);
        break;
    }
  }
  std::stable_sort(reserves.begin(), reserves.end(), [](const LedgerRecord* a, const LedgerRecord* b) {
    return a->time_unix_nanos < b->time_unix_nanos;
  });
  const int64_t now_ns = absl::ToUnixNanos(clock_.Now());
  absl::MutexLock lock(&mu_);
  for (const LedgerRecord* r : reserves) {
    if (released.contains(r->id)) continue;
    // Not released: counts as spent whether or not it was committed, and it
    // cannot be released any more (it is not pending in this process).
    for (const LedgerCharge& c : r->charges) {
      if (c.account.empty() || c.window < absl::Seconds(1)) return absl::DataLossError("ledger journal has a bad charge");
      Account& account = AccountFor(c.account, c.window);
      account.entries.push_back(Entry{r->time_unix_nanos, c.amount, r->id, false});
      account.sum = account.sum.SaturatingAdd(c.amount);
    }
  }
  *live_entries = 0;
  for (auto& [key, account] : accounts_) {
    Evict(account, now_ns);
    *live_entries += account.entries.size();
  }
  *record_count = records.size();
  next_id_ = next;
  return absl::OkStatus();
}

Ledger::Account& Ledger::AccountFor(const std::string& name, absl::Duration window) {
  return AccountFor(AccountKey(name, window), name, window);
}

Ledger::Account& Ledger::AccountFor(const std::string& key, const std::string& name, absl::Duration window) {
  auto [it, inserted] = accounts_.try_emplace(key);
  if (inserted) {
    it->second.window_ns = absl::ToInt64Nanoseconds(window);
    it->second.name = name;
  }
  return it->second;
}

void Ledger::Evict(Account& account, int64_t now_ns) {
  const int64_t cutoff = now_ns - account.window_ns;
  bool saturated = account.sum == Uint256::Max();
  while (!account.entries.empty() && account.entries.front().time_ns <= cutoff) {
    const Entry& e = account.entries.front();
    if (!e.released && !saturated) account.sum = account.sum.Sub(e.amount).value();
    account.entries.pop_front();
    ++account.base_seq;
  }
  if (saturated) {
    // A saturated sum cannot be decremented exactly; add it up again.
    Uint256 sum;
    for (const Entry& e : account.entries) {
      if (!e.released) sum = sum.SaturatingAdd(e.amount);
    }
    account.sum = sum;
  }
}

absl::StatusOr<ReserveOutcome> Ledger::Reserve(std::span<const BudgetCharge> charges) {
  for (const BudgetCharge& c : charges) RETURN_IF_ERROR(CheckCharge(c));
  ReserveOutcome out;
  out.spent.reserve(charges.size());
  LedgerRecord record;
  ReservationId id;
  // Keep the critical section short: build the keys before locking.
  std::vector<std::string> keys;
  keys.reserve(charges.size());
  for (const BudgetCharge& c : charges) keys.push_back(AccountKey(c.account, c.window));
  std::vector<Account*> accounts;
  accounts.reserve(charges.size());
  {
    absl::MutexLock lock(&mu_);
    const int64_t now_ns = absl::ToUnixNanos(clock_.Now());
    for (size_t i = 0; i < charges.size(); ++i) {
      const BudgetCharge& c = charges[i];
      Account& account = AccountFor(keys[i], c.account, c.window);
      Evict(account, now_ns);
      accounts.push_back(&account);
      out.spent.push_back(account.sum);
    }
    for (size_t i = 0; i < charges.size(); ++i) {
      const BudgetCharge& c = charges[i];
      if (!c.limit || c.amount.IsZero()) continue;
      Uint256 total = accounts[i]->sum;
      for (size_t j = 0; j < i; ++j) {
        if (accounts[j] == accounts[i]) total = total.SaturatingAdd(charges[j].amount);
      }
      // Overflow past 2^256-1 exceeds every limit.
      absl::StatusOr<Uint256> after = total.Add(c.amount);
      if (!after.ok() || *after > *c.limit) {
        out.exceeded_index = i;
        return out;
      }
    }
    id = next_id_++;
    Pending& pending = pending_[id];
    record.type = LedgerRecord::Type::kReserve;
    record.id = id;
    record.time_unix_nanos = now_ns;
    for (size_t i = 0; i < charges.size(); ++i) {
      const BudgetCharge& c = charges[i];
      if (c.amount.IsZero()) continue;
      Account& account = *accounts[i];
      pending.entries.emplace_back(&account, account.base_seq + account.entries.size());
      account.entries.push_back(Entry{now_ns, c.amount, id, false});
      account.sum = account.sum.SaturatingAdd(c.amount);
      record.charges.push_back(LedgerCharge{c.account, c.window, c.amount});
    }
  }
  if (!record.charges.empty()) {
    absl::StatusOr<uint64_t> ticket = uint64_t{0};
    {
      absl::ReaderMutexLock journal_lock(&journal_mu_);
      if (options_.defer_reserve_sync) {
        ticket = journal_.AppendDeferred(record);
      } else if (absl::Status st = journal_.Append(record); !st.ok()) {
        ticket = st;
      }
      journal_records_.fetch_add(1, std::memory_order_relaxed);  // a failed append may have left a line too
    }
    if (!ticket.ok()) {
      absl::MutexLock lock(&mu_);
      Undo(id);
      return absl::UnavailableError("budget reservation could not be recorded, nothing was reserved: " +
                                    std::string(ticket.status().message()));
    }
    if (*ticket != 0) {
      absl::MutexLock lock(&mu_);
      pending_[id].journal_ticket = *ticket;  // not yet returned: nobody else has `id`
    }
  }
  out.id = id;
  return out;
}

void Ledger::Undo(ReservationId id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  for (auto& [account, seq] : it->second.entries) {
    if (seq < account->base_seq) continue;  // already out of its window
    Entry& e = account->entries[seq - account->base_seq];
    if (e.released) continue;
    e.released = true;
    if (account->sum == Uint256::Max()) {
      Uint256 sum;
      for (const Entry& x : account->entries) {
        if (!x.released) sum = sum.SaturatingAdd(x.amount);
      }
      account->sum = sum;
    } else {
      account->sum = account->sum.Sub(e.amount).value();
    }
  }
  pending_.erase(it);
}

absl::Status Ledger::MakeDurable(ReservationId id) {
  uint64_t ticket;
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return absl::NotFoundError("reservation " + std::to_string(id) + " is not pending");
    ticket = it->second.journal_ticket;
  }
  if (ticket == 0) return absl::OkStatus();
  absl::Status st = journal_.SyncThrough(ticket);
  if (!st.ok()) {
    return absl::UnavailableError("budget reservation could not be made durable: " + std::string(st.message()));
  }
  return absl::OkStatus();
}

absl::Status Ledger::Commit(ReservationId id) {
  bool journaled;
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) {
      return absl::NotFoundError("reservation " + std::to_string(id) + " is not pending");
    }
    journaled = !it->second.entries.empty();
    pending_.erase(it);
  }
  if (!journaled) return absl::OkStatus();
  // Informational: an uncommitted reservation already counts as spent.
  absl::ReaderMutexLock journal_lock(&journal_mu_);
  journal_records_.fetch_add(1, std::memory_order_relaxed);
  return journal_.AppendLazily(LedgerRecord{LedgerRecord::Type::kCommit, id, 0, {}});
}

absl::Status Ledger::Release(ReservationId id) {
  bool journaled;
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) {
      return absl::NotFoundError("reservation " + std::to_string(id) +
                                 " is not pending (already committed or released, or made before a restart, "
                                 "in which case it counts as spent)");
    }
    journaled = !it->second.entries.empty();
    Undo(id);
  }
  if (!journaled) return absl::OkStatus();
  absl::ReaderMutexLock journal_lock(&journal_mu_);
  // Lazily: if a crash loses it, the reservation counts as spent (safe).
  journal_records_.fetch_add(1, std::memory_order_relaxed);
  absl::Status st = journal_.AppendLazily(LedgerRecord{LedgerRecord::Type::kRelease, id, 0, {}});
  if (!st.ok()) {
    return absl::UnavailableError("reservation released in memory, but the release could not be recorded; after "
                                  "a restart it will count as spent: " + std::string(st.message()));
  }
  return absl::OkStatus();
}

std::vector<Uint256> Ledger::Spent(std::span<const BudgetCharge> charges) {
  std::vector<Uint256> out;
  out.reserve(charges.size());
  absl::MutexLock lock(&mu_);
  const int64_t now_ns = absl::ToUnixNanos(clock_.Now());
  for (const BudgetCharge& c : charges) {
    if (c.account.empty() || c.window < absl::Seconds(1)) {
      out.emplace_back();
      continue;
    }
    auto it = accounts_.find(AccountKey(c.account, c.window));
    if (it == accounts_.end()) {
      out.emplace_back();
      continue;
    }
    Evict(it->second, now_ns);
    out.push_back(it->second.sum);
  }
  return out;
}

absl::Status Ledger::Compact() {
  absl::MutexLock compact_lock(&compact_mu_);
  return CompactLocked();
}

absl::Status Ledger::CompactLocked() {
  // What still counts, copied flat under the locks (no allocation per
  // entry); the records are built from it after they are released.
  struct Live {
    ReservationId id;
    int64_t time_ns;
    size_t account;  // index into `accounts`
    Uint256 amount;
  };
  std::vector<Live> live;
  std::vector<std::pair<std::string, absl::Duration>> accounts;
  absl::flat_hash_set<ReservationId> pending;
  ReservationId id_floor = 0;
  auto build_records = [&] {
    std::stable_sort(live.begin(), live.end(), [](const Live& a, const Live& b) { return a.id < b.id; });
    std::vector<LedgerRecord> records;
    records.reserve(1 + 2 * live.size());
    records.push_back(LedgerRecord{LedgerRecord::Type::kIdFloor, id_floor, 0, {}});
    for (size_t i = 0; i < live.size();) {
      LedgerRecord r{LedgerRecord::Type::kReserve, live[i].id, live[i].time_ns, {}};
      for (; i < live.size() && live[i].id == r.id; ++i) {
        const auto& [name, window] = accounts[live[i].account];
        r.charges.push_back(LedgerCharge{name, window, live[i].amount});
      }
      const ReservationId id = r.id;
      records.push_back(std::move(r));
      if (!pending.contains(id)) records.push_back(LedgerRecord{LedgerRecord::Type::kCommit, id, 0, {}});
    }
    return records;
  };

  // Appends are held off only while the snapshot is taken: it and the
  // journal's rewrite mark must describe the same point.
  absl::ReleasableMutexLock journal_lock(&journal_mu_);
  {
    absl::MutexLock lock(&mu_);
    const int64_t now_ns = absl::ToUnixNanos(clock_.Now());
    for (auto it = accounts_.begin(); it != accounts_.end();) {
      Account& account = it->second;
      Evict(account, now_ns);
      const size_t index = accounts.size();
      bool any = false;
      for (const Entry& e : account.entries) {
        if (e.released) continue;
        live.push_back(Live{e.id, e.time_ns, index, e.amount});
        any = true;
      }
      if (any) accounts.emplace_back(account.name, absl::Nanoseconds(account.window_ns));
      bool referenced = false;
      if (account.entries.empty()) {
        for (const auto& [pid, p] : pending_) {
          for (const auto& [acct, seq] : p.entries) referenced |= (acct == &account);
        }
      }
      if (account.entries.empty() && !referenced) {
        accounts_.erase(it++);
      } else {
        ++it;
      }
    }
    id_floor = next_id_;
    pending.reserve(pending_.size());
    for (const auto& [id, p] : pending_) pending.insert(id);
  }
  if (!journal_.BeginRewrite()) {
    // This journal cannot take appends during a rewrite: they wait.
    const std::vector<LedgerRecord> records = build_records();
    RETURN_IF_ERROR(journal_.Rewrite(records));
    journal_records_ = records.size();  // the file holds exactly these
    records_after_compaction_ = records.size();
    return absl::OkStatus();
  }
  const uint64_t records_at_snapshot = journal_records_.load();
  journal_lock.Release();
  // The journal writes and syncs the new file while reservations go on;
  // what they append meanwhile is carried over after the snapshot.
  const std::vector<LedgerRecord> records = build_records();
  RETURN_IF_ERROR(journal_.FinishRewrite(records));
  journal_records_.fetch_sub(records_at_snapshot - records.size());  // modular: exact whichever is larger
  records_after_compaction_ = records.size();
  return absl::OkStatus();
}

absl::Status Ledger::MaybeCompact() {
  absl::MutexLock compact_lock(&compact_mu_);
  if (journal_records_.load(std::memory_order_relaxed) < 2 * records_after_compaction_ + kCompactGrowthRecords) {
    return absl::OkStatus();
  }
  return CompactLocked();
}

size_t Ledger::pending_count() const {
  absl::MutexLock lock(&mu_);
  return pending_.size();
}

size_t Ledger::account_count() const {
  absl::MutexLock lock(&mu_);
  return accounts_.size();
}

}  // namespace sigil::policy
