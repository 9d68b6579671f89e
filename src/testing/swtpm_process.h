// SwtpmProcess: a private TPM 2.0 simulator (swtpm) for tests. Starts
// `swtpm socket --tpm2` on two free, consecutive loopback ports (server P,
// control P+1, as the swtpm TCTI expects) with its state in a fresh temp
// directory and `--flags not-need-init,startup-clear`, so the TPM is ready
// as soon as Start returns. The destructor stops it by PID (SIGTERM, then
// SIGKILL) and removes the state directory. Nothing global is touched.
//
// Thread-compatible. Library code (STYLE.md: fakes and fixtures are library
// code) so every TPM test starts its simulator the same way.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace sigil::testing {

class SwtpmProcess {
 public:
  // Unavailable if swtpm is not installed or does not accept connections
  // within a few seconds.
  static absl::StatusOr<std::unique_ptr<SwtpmProcess>> Start();
  ~SwtpmProcess();
  SwtpmProcess(const SwtpmProcess&) = delete;
  SwtpmProcess& operator=(const SwtpmProcess&) = delete;

  // "swtpm:host=127.0.0.1,port=P" for Tpm2Device::Open / --tpm-tcti.
  std::string tcti() const;
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& state_dir() const { return dir_; }

 private:
  SwtpmProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
};

}  // namespace sigil::testing
