#include "keystore/master_key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "crypto/random.h"

namespace sigil::keystore {
namespace {

constexpr size_t kKeySize = 32;

class FileCloser {
 public:
  explicit FileCloser(int fd) : fd_(fd) {}
  ~FileCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileCloser(const FileCloser&) = delete;
  FileCloser& operator=(const FileCloser&) = delete;

 private:
  int fd_;
};

std::string Errno() { return std::strerror(errno); }

}  // namespace

absl::StatusOr<SecretBytes> ReadMasterKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError("master key file " + path + " does not exist");
    return absl::UnavailableError("cannot open master key file " + path + ": " + Errno());
  }
  FileCloser closer(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return absl::UnavailableError("cannot stat master key file " + path + ": " + Errno());
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError("master key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError("master key file " + path +
                                         " is accessible by group or others; run `chmod 600 " + path + "`");
  }
  // One spare byte tells "exactly 32" from "longer".
  SecretBytes buffer = SecretBytes::Zeroed(kKeySize + 1);
  auto out = buffer.RevealMutable(SecretAccess::Get());
  size_t total = 0;
  while (total < out.size()) {
    ssize_t n = ::read(fd, out.data() + total, out.size() - total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError("cannot read master key file " + path + ": " + Errno());
    if (n == 0) break;
    total += static_cast<size_t>(n);
  }
  if (total != kKeySize) {
    return absl::InvalidArgumentError("master key file " + path + " must hold exactly 32 bytes" +
                                      (total > kKeySize ? " (it is longer)" : ", it holds " + std::to_string(total)));
  }
  return SecretBytes::CopyFrom(out.first(kKeySize));
}

absl::Status CreateMasterKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError("master key file " + path + " already exists");
    return absl::UnavailableError("cannot create master key file " + path + ": " + Errno());
  }
  FileCloser closer(fd);
  SecretBytes key = crypto::RandomSecret(kKeySize);
  auto bytes = key.Reveal(SecretAccess::Get());
  size_t total = 0;
  while (total < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + total, bytes.size() - total);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::unlink(path.c_str());
      return absl::UnavailableError("cannot write master key file " + path + ": " + Errno());
    }
    total += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::unlink(path.c_str());
    return absl::UnavailableError("cannot sync master key file " + path + ": " + Errno());
  }
  return absl::OkStatus();
}

}  // namespace sigil::keystore
