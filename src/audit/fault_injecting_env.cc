#include "audit/fault_injecting_env.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"

namespace sigil::audit {
namespace {

class FaultInjectingFile final : public WritableFile {
 public:
  FaultInjectingFile(FaultInjectingEnv& env, std::unique_ptr<WritableFile> target)
      : env_(env), target_(std::move(target)) {}

  absl::Status Append(std::span<const uint8_t> data) override {
    if (auto firing = env_.Check(FaultInjectingEnv::Op::kWrite)) {
      size_t partial = std::min(firing->partial_bytes, data.size());
      if (partial > 0) {
        absl::Status ignored = target_->Append(data.first(partial));
        (void)ignored;
      }
      return firing->status;
    }
    return target_->Append(data);
  }
  absl::Status Sync() override {
    if (auto firing = env_.Check(FaultInjectingEnv::Op::kSync)) return firing->status;
    const absl::Duration delay = env_.SyncDelay();
    if (delay > absl::ZeroDuration()) absl::SleepFor(delay);
    if (std::function<void()> gate = env_.SyncGate()) gate();
    return target_->Sync();
  }
  absl::Status Truncate(uint64_t size) override {
    if (auto firing = env_.Check(FaultInjectingEnv::Op::kTruncate)) return firing->status;
    return target_->Truncate(size);
  }
  uint64_t Position() const override { return target_->Position(); }
  absl::Status Close() override { return target_->Close(); }

 private:
  FaultInjectingEnv& env_;
  std::unique_ptr<WritableFile> target_;
};

}  // namespace

void FaultInjectingEnv::InjectFault(Op op, Fault fault) {
  absl::MutexLock lock(&mu_);
  armed_[static_cast<int>(op)] = fault.times != 0;
  faults_[static_cast<int>(op)] = std::move(fault);
}

void FaultInjectingEnv::ClearFault(Op op) {
  absl::MutexLock lock(&mu_);
  armed_[static_cast<int>(op)] = false;
}

void FaultInjectingEnv::ClearAllFaults() {
  absl::MutexLock lock(&mu_);
  for (bool& a : armed_) a = false;
}

void FaultInjectingEnv::SetSyncDelay(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  sync_delay_ = delay;
}

void FaultInjectingEnv::SetSyncGate(std::function<void()> gate) {
  absl::MutexLock lock(&mu_);
  sync_gate_ = std::move(gate);
}

std::function<void()> FaultInjectingEnv::SyncGate() const {
  absl::MutexLock lock(&mu_);
  return sync_gate_;
}

absl::Duration FaultInjectingEnv::SyncDelay() const {
  absl::MutexLock lock(&mu_);
  return sync_delay_;
}

uint64_t FaultInjectingEnv::CallCount(Op op) const {
  absl::MutexLock lock(&mu_);
  return calls_[static_cast<int>(op)];
}

std::optional<FaultInjectingEnv::Firing> FaultInjectingEnv::Check(Op op) {
  absl::MutexLock lock(&mu_);
  int i = static_cast<int>(op);
  ++calls_[i];
  if (!armed_[i]) return std::nullopt;
  Fault& f = faults_[i];
  Firing firing{f.status, f.partial_bytes};
  if (f.times > 0 && --f.times == 0) armed_[i] = false;
  return firing;
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectingEnv::OpenWritable(const std::string& path) {
  if (auto firing = Check(Op::kOpen)) return firing->status;
  auto file = target().OpenWritable(path);
  if (!file.ok()) return file.status();
  return std::unique_ptr<WritableFile>(new FaultInjectingFile(*this, std::move(file).value()));
}

absl::Status FaultInjectingEnv::RenameFile(const std::string& from, const std::string& to) {
  if (auto firing = Check(Op::kRename)) return firing->status;
  return target().RenameFile(from, to);
}

absl::Status FaultInjectingEnv::SyncDir(const std::string& dir) {
  if (auto firing = Check(Op::kSyncDir)) return firing->status;
  return target().SyncDir(dir);
}

}  // namespace sigil::audit
