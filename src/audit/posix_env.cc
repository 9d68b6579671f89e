// The POSIX implementation of Env.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "audit/env.h"

namespace sigil::audit {
namespace {

absl::Status PosixError(const std::string& op, const std::string& path, int err) {
  std::string message = "audit log cannot be written: " + op + " " + path + ": " + strerror(err);
  if (err == ENOENT) return absl::NotFoundError(message);
  return absl::UnavailableError(message);
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t position)
      : path_(std::move(path)), fd_(fd), position_(position) {}
  ~PosixWritableFile() override { (void)Close(); }

  absl::Status Append(std::span<const uint8_t> data) override {
    if (fd_ < 0) return absl::FailedPreconditionError("audit file " + path_ + " is closed");
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(position_ + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        position_ += done;
        return PosixError("write", path_, err);
      }
      if (n == 0) {
        position_ += done;
        return PosixError("write", path_, ENOSPC);
      }
      done += static_cast<size_t>(n);
    }
    position_ += done;
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (fd_ < 0) return absl::FailedPreconditionError("audit file " + path_ + " is closed");
    // fdatasync is enough: the size change that matters is data-ordered, and
    // the directory entry was made durable when the file was created.
    while (::fdatasync(fd_) != 0) {
      if (errno == EINTR) continue;
      return PosixError("fsync", path_, errno);
    }
    return absl::OkStatus();
  }

  absl::Status Truncate(uint64_t size) override {
    if (fd_ < 0) return absl::FailedPreconditionError("audit file " + path_ + " is closed");
    while (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      if (errno == EINTR) continue;
      return PosixError("truncate", path_, errno);
    }
    position_ = size;
    return absl::OkStatus();
  }

  uint64_t Position() const override { return position_; }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return PosixError("close", path_, errno);
    return absl::OkStatus();
  }

 private:
  const std::string path_;
  int fd_;
  uint64_t position_;
};

class PosixEnvImpl final : public Env {
 public:
  absl::StatusOr<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path) override {
    int fd;
    do {
      fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return PosixError("open", path, errno);
    // Two writers would interleave frames: refuse a second one.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return absl::FailedPreconditionError(path + " is open for writing elsewhere (another sigild?)");
      }
      return PosixError("lock", path, err);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return PosixError("stat", path, err);
    }
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  absl::StatusOr<Bytes> ReadFile(const std::string& path, uint64_t offset, uint64_t length) override {
    int fd;
    do {
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return PosixError("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return PosixError("stat", path, err);
    }
    uint64_t size = static_cast<uint64_t>(st.st_size);
    uint64_t want = offset >= size ? 0 : std::min<uint64_t>(length, size - offset);
    Bytes out(want);
    uint64_t done = 0;
    while (done < want) {
      ssize_t n = ::pread(fd, out.data() + done, want - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        return PosixError("read", path, err);
      }
      if (n == 0) break;  // the file shrank under us
      done += static_cast<uint64_t>(n);
    }
    ::close(fd);
    out.resize(done);
    return out;
  }

  absl::StatusOr<bool> FileExists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT) return false;
    return PosixError("stat", path, errno);
  }

  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError("rename", from + " -> " + to, errno);
    return absl::OkStatus();
  }

  absl::Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("unlink", path, errno);
    return absl::OkStatus();
  }

  absl::Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open directory", dir, errno);
    int rc;
    do {
      rc = ::fsync(fd);
    } while (rc != 0 && errno == EINTR);
    int err = errno;
    ::close(fd);
    if (rc != 0) return PosixError("fsync directory", dir, err);
    return absl::OkStatus();
  }
};

}  // namespace

Env& PosixEnv() {
  static Env* env = new PosixEnvImpl();  // never destroyed: usable from static destructors
  return *env;
}

}  // namespace sigil::audit
