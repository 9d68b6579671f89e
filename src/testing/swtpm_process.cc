#include "testing/swtpm_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

namespace sigil::testing {
namespace {

// Binds 127.0.0.1:port (0 = any) and returns the bound port, or 0.
int BindLoopback(int port, int* fd_out) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof(a);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return 0;
  }
  *fd_out = fd;
  return ntohs(a.sin_port);
}

// Two free consecutive ports P, P+1 (swtpm's TCTI takes the control port
// as server port + 1). Released just before swtpm binds them; the caller
// retries on the rare race.
int FreePortPair() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int fd1 = -1, fd2 = -1;
    int p = BindLoopback(0, &fd1);
    if (p == 0) continue;
    bool ok = p < 65535 && BindLoopback(p + 1, &fd2) == p + 1;
    ::close(fd1);
    if (fd2 >= 0) ::close(fd2);
    if (ok) return p;
  }
  return 0;
}

bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SwtpmProcess>> SwtpmProcess::Start() {
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::unique_ptr<SwtpmProcess> p(new SwtpmProcess());
    std::string tmpl = (std::filesystem::temp_directory_path() / "sigil-swtpm-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return absl::UnavailableError("cannot create a temp directory for swtpm");
    p->dir_ = tmpl;
    p->port_ = FreePortPair();
    if (p->port_ == 0) return absl::UnavailableError("no free loopback port pair for swtpm");
    std::vector<std::string> args = {
        "swtpm", "socket", "--tpm2", "--tpmstate", "dir=" + p->dir_,
        "--server", "type=tcp,port=" + std::to_string(p->port_) + ",bindaddr=127.0.0.1",
        "--ctrl", "type=tcp,port=" + std::to_string(p->port_ + 1) + ",bindaddr=127.0.0.1",
        "--flags", "not-need-init,startup-clear"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return absl::UnavailableError("fork failed");
    if (pid == 0) {
      ::execvp("swtpm", argv.data());
      ::_exit(127);
    }
    p->pid_ = pid;
    for (int i = 0; i < 100; ++i) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        p->pid_ = -1;  // exited: port race or swtpm missing
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
          return absl::UnavailableError("swtpm is not installed (apt-get install swtpm)");
        }
        break;
      }
      if (Accepts(p->port_)) return p;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return absl::UnavailableError("swtpm did not start on a loopback port");
}

SwtpmProcess::~SwtpmProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    bool reaped = false;
    for (int i = 0; i < 100 && !reaped; ++i) {
      reaped = ::waitpid(pid_, &status, WNOHANG) == pid_;
      if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!reaped) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string SwtpmProcess::tcti() const { return "swtpm:host=127.0.0.1,port=" + std::to_string(port_); }

}  // namespace sigil::testing
