// FaultInjectingEnv: an EnvWrapper that makes chosen calls fail, for the
// audit log's fail-closed tests (write error, partial write, fsync error,
// truncate error), the way leveldb's crash tests wrap their Env.
//
// A fault is armed per operation kind. While armed, each matching call fails
// with the given status (for writes, after letting `partial_bytes` of the data
// through, to model a short write that left bytes behind). A fault fires
// `times` times (negative: until cleared).
//
// Thread-safe. Does not own the target Env.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "audit/env.h"

namespace sigil::audit {

class FaultInjectingEnv final : public EnvWrapper {
 public:
  enum class Op { kOpen, kWrite, kSync, kTruncate, kRename, kSyncDir };

  struct Fault {
    absl::Status status = absl::UnavailableError("injected I/O error");
    int64_t times = -1;        // how many calls fail; negative = until ClearFault
    size_t partial_bytes = 0;  // kWrite only: bytes written before failing
  };

  explicit FaultInjectingEnv(Env& target) : EnvWrapper(target) {}

  void InjectFault(Op op, Fault fault);
  void ClearFault(Op op);
  void ClearAllFaults();

  // Makes every successful Sync take at least `delay` (a slow disk).
  void SetSyncDelay(absl::Duration delay);
  absl::Duration SyncDelay() const;
  // Runs `gate` inside every Sync of a wrapped file that is not failed by a
  // fault, before the real sync: a test orders other events around a sync
  // by blocking there. Empty: none.
  void SetSyncGate(std::function<void()> gate);

  // Calls that reached this Env (failed ones included).
  uint64_t CallCount(Op op) const;

  absl::StatusOr<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path) override;
  absl::Status RenameFile(const std::string& from, const std::string& to) override;
  absl::Status SyncDir(const std::string& dir) override;

  // Used by the wrapped files. Returns the armed fault for `op` (consuming
  // one firing) or nullopt, and counts the call.
  struct Firing {
    absl::Status status;
    size_t partial_bytes = 0;
  };
  std::optional<Firing> Check(Op op);
  std::function<void()> SyncGate() const;  // a copy, called without the lock

 private:
  static constexpr int kOps = 6;
  mutable absl::Mutex mu_;
  bool armed_[kOps] ABSL_GUARDED_BY(mu_) = {};
  Fault faults_[kOps] ABSL_GUARDED_BY(mu_);
  uint64_t calls_[kOps] ABSL_GUARDED_BY(mu_) = {};
  absl::Duration sync_delay_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  std::function<void()> sync_gate_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::audit
