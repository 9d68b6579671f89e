#include "keystore/pkcs11/pkcs11_settings.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <span>

#include "base/status.h"

namespace sigil::keystore::pkcs11 {

namespace {

// The first line of a PIN file, read straight into locked memory (no stream
// buffer keeps a copy) and never more than kMaxPinBytes + 1 bytes of it, so a
// path to a log or /dev/zero is refused instead of read whole.
absl::StatusOr<SecretBytes> ReadPinLine(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError("cannot read the PKCS#11 PIN file " + path);
  SecretBytes buf = SecretBytes::Zeroed(kMaxPinBytes + 1);
  std::span<uint8_t> bytes = buf.RevealMutable(SecretAccess::Get());
  size_t len = 0;
  while (len < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + len, bytes.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return absl::UnavailableError("cannot read the PKCS#11 PIN file " + path);
    }
    if (n == 0) break;
    const auto newline = std::find(bytes.begin() + len, bytes.begin() + len + n, '\n');
    len += static_cast<size_t>(n);
    if (newline != bytes.begin() + len) {
      len = static_cast<size_t>(newline - bytes.begin());
      break;
    }
  }
  ::close(fd);
  if (len > kMaxPinBytes) {
    return absl::InvalidArgumentError("the first line of the PKCS#11 PIN file " + path + " is longer than " +
                                      std::to_string(kMaxPinBytes) + " bytes; it does not hold a PIN");
  }
  return SecretBytes::CopyFrom(std::span<const uint8_t>(bytes.data(), len));
}

}  // namespace

absl::StatusOr<SecretBytes> ReadPkcs11Pin(const Pkcs11Settings& settings) {
  SecretBytes pin;
  if (!settings.pin_file.empty()) {
    ASSIGN_OR_RETURN(pin, ReadPinLine(settings.pin_file));
  } else if (char* env = ::getenv(kPinEnvironmentVariable); env != nullptr) {
    pin = SecretBytes::CopyFrom(std::string_view(env));
    // The PIN now lives in locked memory only: it is wiped from the
    // environment block (the process's own memory; unsetenv alone would leave
    // the bytes behind) and the variable removed, so it is neither in
    // /proc/<pid>/environ nor inherited by child processes.
    ::explicit_bzero(env, ::strlen(env));
    ::unsetenv(kPinEnvironmentVariable);
  } else {
    return absl::InvalidArgumentError(std::string("no PKCS#11 PIN: give --pkcs11-pin-file / pkcs11.pin_file, or set ") +
                                      kPinEnvironmentVariable);
  }
  std::string_view text = pin.RevealText(SecretAccess::Get());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.empty()) return absl::InvalidArgumentError("the PKCS#11 PIN is empty");
  if (text.size() > kMaxPinBytes) {
    return absl::InvalidArgumentError("the PKCS#11 PIN is longer than " + std::to_string(kMaxPinBytes) + " bytes");
  }
  if (text.size() == pin.size()) return pin;
  return SecretBytes::CopyFrom(text);
}

absl::StatusOr<std::unique_ptr<Pkcs11KeyStore>> OpenPkcs11KeyStore(store::Store& store, const Pkcs11Settings& settings,
                                                                    SecretBytes pin, const Clock& clock) {
  if (settings.module_path.empty()) return absl::InvalidArgumentError("pkcs11.module (--pkcs11-module) is not set");
  if (settings.token_label.empty()) return absl::InvalidArgumentError("pkcs11.token (--pkcs11-token) is not set");
  if (pin.empty()) return absl::InvalidArgumentError("no PKCS#11 PIN was read");
  ASSIGN_OR_RETURN(auto module, Pkcs11Module::Load(settings.module_path));
  SessionPoolOptions po;
  po.max_sessions = settings.max_sessions;
  ASSIGN_OR_RETURN(auto pool, SessionPool::Open(std::move(module), settings.token_label, std::move(pin), po));
  Pkcs11KeyStoreOptions options;
  options.clock = &clock;
  return Pkcs11KeyStore::Open(store, std::move(pool), options);
}

}  // namespace sigil::keystore::pkcs11
