// Env: the audit log's one seam to the operating system (files, directories).
//
// Modelled on leveldb's Env. The audit log never calls POSIX directly; it is
// handed an Env, so tests can wrap the real one (EnvWrapper) and inject
// faults into exactly the call they care about (see fault_injecting_env.h).
//
// Failure codes: every method returns absl::Status. I/O errors that a later
// retry may cure (EIO, ENOSPC, EDQUOT, EACCES, EROFS, ...) are reported as
// absl::UnavailableError with the path, the operation and strerror(errno) in
// the message; a missing file is NotFoundError.
//
// Thread-safety: an Env is safe for concurrent use. A WritableFile is not:
// its owner serialises calls to it.
#pragma once

#include <cstdint>
#include <limits>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/hex.h"

namespace sigil::audit {

// A file opened for writing at a position the owner controls. Writes go to
// the current position, which starts at the end of the existing contents.
class WritableFile {
 public:
  virtual ~WritableFile() = default;

  // Writes all of `data` at the current position and advances it. On error
  // some prefix of `data` may have reached the file; the owner repairs that
  // with Truncate().
  [[nodiscard]] virtual absl::Status Append(std::span<const uint8_t> data) = 0;
  // Makes everything written so far durable (fdatasync/fsync).
  [[nodiscard]] virtual absl::Status Sync() = 0;
  // Cuts the file to `size` bytes and moves the position there.
  [[nodiscard]] virtual absl::Status Truncate(uint64_t size) = 0;
  // The current position.
  virtual uint64_t Position() const = 0;
  // Releases the descriptor. Further calls fail. Idempotent.
  [[nodiscard]] virtual absl::Status Close() = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // Opens `path` for writing, creating it (mode 0600) if absent. Existing
  // contents are kept; the position is the end of the file. The file is
  // held exclusively (PosixEnv: flock) until closed: FailedPrecondition if
  // another writer holds it.
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path) = 0;
  // Reads up to `length` bytes starting at `offset` (fewer at end of file).
  [[nodiscard]] virtual absl::StatusOr<Bytes> ReadFile(const std::string& path, uint64_t offset,
                                                       uint64_t length) = 0;
  [[nodiscard]] virtual absl::StatusOr<bool> FileExists(const std::string& path) = 0;
  // Atomically replaces `to` by `from` (rename(2)).
  [[nodiscard]] virtual absl::Status RenameFile(const std::string& from, const std::string& to) = 0;
  [[nodiscard]] virtual absl::Status RemoveFile(const std::string& path) = 0;
  // fsync()s a directory so that a create or rename in it is durable.
  [[nodiscard]] virtual absl::Status SyncDir(const std::string& dir) = 0;

  // Whole-file convenience over ReadFile().
  [[nodiscard]] absl::StatusOr<Bytes> ReadWholeFile(const std::string& path) {
    return ReadFile(path, 0, std::numeric_limits<uint64_t>::max());
  }
};

// The process-wide POSIX Env. Never destroyed; thread-safe.
Env& PosixEnv();

// Forwards every call to a target Env. Subclass it and override only the
// calls a test (or a decorator) changes. Does not own the target.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env& target) : target_(target) {}
  Env& target() const { return target_; }

  absl::StatusOr<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path) override {
    return target_.OpenWritable(path);
  }
  absl::StatusOr<Bytes> ReadFile(const std::string& path, uint64_t offset, uint64_t length) override {
    return target_.ReadFile(path, offset, length);
  }
  absl::StatusOr<bool> FileExists(const std::string& path) override { return target_.FileExists(path); }
  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    return target_.RenameFile(from, to);
  }
  absl::Status RemoveFile(const std::string& path) override { return target_.RemoveFile(path); }
  absl::Status SyncDir(const std::string& dir) override { return target_.SyncDir(dir); }

 private:
  Env& target_;
};

// Writes `data` to `path` so that a reader sees either the old file or the
// complete new one: write `path`.tmp, fsync, rename over `path`, fsync the
// directory. On failure the temporary file is removed (best effort).
[[nodiscard]] absl::Status WriteFileAtomically(Env& env, const std::string& path, std::span<const uint8_t> data);
// The same, with the contents appended by `fill` (e.g. a copy in bounded
// chunks); a `fill` error fails the write.
[[nodiscard]] absl::Status WriteFileAtomically(Env& env, const std::string& path,
                                               const std::function<absl::Status(WritableFile&)>& fill);

// The directory part of `path` ("." if it has none).
std::string DirName(const std::string& path);

}  // namespace sigil::audit
