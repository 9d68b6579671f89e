// SoftHsmToken: a SoftHSM2 token in a private temporary directory, for tests
// and benchmarks of the PKCS#11 backend. Create() writes a private
// softhsm2.conf (token directory inside the temp dir), points this process's
// SOFTHSM2_CONF at it and runs `softhsm2-util --init-token --free`. The
// directory and every token in it are removed when the object dies.
//
// Header-only so that benchmarks (which do not link sigil_testing) can use it.
//
// REQUIRES: one SoftHsmToken at a time per process, and every Pkcs11Module of
// SoftHSM released before it dies (SoftHSM reads SOFTHSM2_CONF when it is
// initialised). Not thread-safe; create it before starting threads.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "testing/scoped_temp_dir.h"

extern char** environ;

namespace sigil {

class SoftHsmToken {
 public:
  static constexpr char kPin[] = "1234";
  static constexpr char kSoPin[] = "12345678";

  // The installed SoftHSM2 module, or "" if softhsm2 is not installed.
  static std::string ModulePath() {
    for (const char* path : {"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                             "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so"}) {
      struct stat st {};
      if (::stat(path, &st) == 0) return path;
    }
    return "";
  }
  // Whether softhsm2-util can be run.
  static bool Installed() { return !ModulePath().empty() && Run({"softhsm2-util", "--version"}) == 0; }

  // A fresh token labelled `label` with user PIN kPin. FailedPrecondition if
  // softhsm2 is not installed.
  static absl::StatusOr<std::unique_ptr<SoftHsmToken>> Create(const std::string& label = "sigil-test") {
    if (!Installed()) return absl::FailedPreconditionError("softhsm2 is not installed (apt-get install softhsm2)");
    std::unique_ptr<SoftHsmToken> token(new SoftHsmToken());
    if (token->dir_.path().empty()) return absl::UnavailableError("cannot create a temporary directory");
    const std::string tokens = token->dir_.path() + "/tokens";
    if (::mkdir(tokens.c_str(), 0700) != 0) return absl::UnavailableError("cannot create " + tokens);
    token->conf_ = token->dir_.path() + "/softhsm2.conf";
    {
      std::ofstream conf(token->conf_);
      conf << "directories.tokendir = " << tokens << "\nobjectstore.backend = file\nlog.level = ERROR\n"
           << "slots.removable = false\n";
      if (!conf) return absl::UnavailableError("cannot write " + token->conf_);
    }
    ::setenv("SOFTHSM2_CONF", token->conf_.c_str(), 1);
    if (absl::Status st = token->AddToken(label); !st.ok()) return st;
    token->label_ = label;
    return token;
  }

  // Initialises another token in the same directory (same PINs).
  absl::Status AddToken(const std::string& label) {
    int rc = Run({"softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", kSoPin, "--pin", kPin});
    if (rc != 0) return absl::UnavailableError("softhsm2-util --init-token failed for label " + label);
    return absl::OkStatus();
  }

  const std::string& module_path() const { return module_; }
  const std::string& label() const { return label_; }
  const std::string& conf_path() const { return conf_; }
  const std::string& dir() const { return dir_.path(); }
  std::string pin() const { return kPin; }

  // Runs a command (PATH lookup) with this process's environment, output
  // discarded; returns its exit status (-1 if it could not run).
  static int Run(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return -1;
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  ~SoftHsmToken() { ::unsetenv("SOFTHSM2_CONF"); }
  SoftHsmToken(const SoftHsmToken&) = delete;
  SoftHsmToken& operator=(const SoftHsmToken&) = delete;

 private:
  SoftHsmToken() : module_(ModulePath()) {}

  ScopedTempDir dir_;
  std::string module_;
  std::string conf_;
  std::string label_;
};

}  // namespace sigil
