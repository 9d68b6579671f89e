#include "cli/passphrase_source.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <cstdlib>
#include <iterator>

#include "base/status.h"

namespace sigil::cli {
namespace {

void WriteText(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

absl::StatusOr<SecretBytes> ReadSecretFile(const std::string& path, const std::string& what) {
  // Read straight into locked, wiped-on-free memory: no stream buffer keeps a
  // copy behind.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError("cannot read " + what + " file " + path);
  SecretBytes buf = SecretBytes::Zeroed(kMaxPassphraseBytes + 1);
  auto bytes = buf.RevealMutable(SecretAccess::Get());
  size_t len = 0;
  while (len < bytes.size()) {
    ssize_t n = ::read(fd, bytes.data() + len, bytes.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return absl::NotFoundError("cannot read " + what + " file " + path);
    }
    if (n == 0) break;
    len += static_cast<size_t>(n);
  }
  ::close(fd);
  if (len > kMaxPassphraseBytes) return absl::InvalidArgumentError(what + " file " + path + " is larger than 4 KiB");
  while (len > 0 && (bytes[len - 1] == '\n' || bytes[len - 1] == '\r')) --len;
  return SecretBytes::CopyFrom(std::span<const uint8_t>(bytes.data(), len));
}

namespace {

// While echo is off, a signal that ends the process (^C, a hang-up) first
// puts the terminal back, then takes its default action. Signals the process
// ignores (nohup) stay ignored. ^Z (SIGTSTP) is ignored during the prompt:
// resumed, the prompt would go on with echo back on.
volatile sig_atomic_t g_tty_fd = -1;
termios g_tty_saved{};  // written before the handler is installed

void RestoreTerminalAndReraise(int sig) {
  const int saved_errno = errno;
  if (g_tty_fd >= 0) (void)::tcsetattr(g_tty_fd, TCSAFLUSH, &g_tty_saved);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
  errno = saved_errno;
}

constexpr int kTerminalSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};

// Installs the handlers (SIGTSTP: ignored) and keeps what was there.
void GuardTerminal(struct sigaction (&previous)[std::size(kTerminalSignals)]) {
  for (size_t i = 0; i < std::size(kTerminalSignals); ++i) {
    const int sig = kTerminalSignals[i];
    ::sigaction(sig, nullptr, &previous[i]);
    if (previous[i].sa_handler == SIG_IGN) continue;
    struct sigaction next = {};
    next.sa_handler = sig == SIGTSTP ? SIG_IGN : RestoreTerminalAndReraise;
    sigemptyset(&next.sa_mask);
    ::sigaction(sig, &next, nullptr);
  }
}

void UnguardTerminal(const struct sigaction (&previous)[std::size(kTerminalSignals)]) {
  for (size_t i = 0; i < std::size(kTerminalSignals); ++i) ::sigaction(kTerminalSignals[i], &previous[i], nullptr);
  g_tty_fd = -1;
}

}  // namespace

absl::StatusOr<SecretBytes> PromptLine(int in_fd, int out_fd, const std::string& prompt) {
  // Echo goes off before the prompt appears, so nothing typed after it is
  // ever shown (or flushed away).
  termios saved{};
  const bool tty = ::tcgetattr(in_fd, &saved) == 0;
  struct sigaction previous[std::size(kTerminalSignals)] = {};
  if (tty) {
    g_tty_saved = saved;
    g_tty_fd = in_fd;
    GuardTerminal(previous);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    if (::tcsetattr(in_fd, TCSAFLUSH, &quiet) != 0) {
      UnguardTerminal(previous);
      return absl::UnavailableError("cannot turn terminal echo off");
    }
  }
  WriteText(out_fd, prompt);
  SecretBytes buf = SecretBytes::Zeroed(kMaxPassphraseBytes);
  auto bytes = buf.RevealMutable(SecretAccess::Get());
  size_t len = 0;
  bool newline = false, too_long = false;
  for (;;) {
    char c;
    ssize_t n = ::read(in_fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (c == '\n') {
      newline = true;
      break;
    }
    if (len == bytes.size()) {
      too_long = true;
      continue;  // read to the end of the line, keep nothing more
    }
    bytes[len++] = static_cast<uint8_t>(c);
  }
  if (tty) {
    (void)::tcsetattr(in_fd, TCSAFLUSH, &saved);
    UnguardTerminal(previous);
  }
  if (!newline) return absl::InvalidArgumentError("no passphrase entered (end of input)");
  if (too_long) return absl::InvalidArgumentError("the passphrase is longer than 4 KiB");
  if (len > 0 && bytes[len - 1] == '\r') --len;
  return SecretBytes::CopyFrom(std::span<const uint8_t>(bytes.data(), len));
}

absl::StatusOr<SecretBytes> ReadPassphrase(const char* env_var, const std::string& what, bool confirm) {
  if (const char* file = std::getenv(env_var); file != nullptr && *file != '\0') return ReadSecretFile(file, what);
  const int tty = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (tty < 0) {
    return absl::InvalidArgumentError("set " + std::string(env_var) + " to a file holding the " + what +
                                      " (there is no terminal to ask for it on)");
  }
  absl::StatusOr<SecretBytes> out = PromptLine(tty, tty, "Enter the " + what + ": ");
  if (out.ok() && out->empty()) out = absl::InvalidArgumentError("the " + what + " is empty");
  if (out.ok() && confirm) {
    absl::StatusOr<SecretBytes> again = PromptLine(tty, tty, "Enter it again: ");
    if (!again.ok()) {
      out = again.status();
    } else if (!(*out == *again)) {
      out = absl::InvalidArgumentError("the two entries of the " + what + " differ; nothing was done");
    }
  }
  ::close(tty);
  return out;
}

}  // namespace sigil::cli
