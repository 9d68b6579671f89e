// Environment check (`sigil attest check`): is this process set up the way a
// custody daemon should be? Split in two so the judgement is testable:
//   GatherEnvironmentFacts  reads the live process and system (prctl, rlimits,
//                           /proc, stat) into an EnvironmentFacts;
//   CheckEnvironment        a pure function from facts to a verdict.
//
// Each problem is one error with a stable code:
//   dev_mode             the daemon runs in dev mode (keys in a dev data dir, loud debug reports)
//   core_dumps_possible  the process is dumpable (or fs.suid_dumpable=2) and a core would be
//                        written: RLIMIT_CORE > 0, or core_pattern pipes to a program (the kernel
//                        does not apply RLIMIT_CORE to pipes)
//   memory_not_lockable  secret memory could not be page-locked (SecretMemoryIsLocked() false),
//                        or RLIMIT_MEMLOCK is below kMinLockableBytes without CAP_IPC_LOCK
//   data_dir_missing     the data directory cannot be inspected (stat failed) or is not a directory
//   data_dir_exposed     the data directory is readable or writable by group or others
//   insecure_listener    a TCP listener on a non-loopback address without TLS (one error each)
//   backup_enabled       key backups are enabled (an exported, if encrypted, copy of the keys)
//   audit_unverifiable   the audit log did not verify
//
// Thread-safety: CheckEnvironment is pure; GatherEnvironmentFacts only reads
// process state and may run concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace sigil::attest {

inline constexpr char kEnvDevMode[] = "dev_mode";
inline constexpr char kEnvCoreDumpsPossible[] = "core_dumps_possible";
inline constexpr char kEnvMemoryNotLockable[] = "memory_not_lockable";
inline constexpr char kEnvDataDirMissing[] = "data_dir_missing";
inline constexpr char kEnvDataDirExposed[] = "data_dir_exposed";
inline constexpr char kEnvInsecureListener[] = "insecure_listener";
inline constexpr char kEnvBackupEnabled[] = "backup_enabled";
inline constexpr char kEnvAuditUnverifiable[] = "audit_unverifiable";

// The smallest RLIMIT_MEMLOCK that holds the daemon's secrets comfortably.
inline constexpr uint64_t kMinLockableBytes = uint64_t{1} << 20;
// RLIM_INFINITY as reported in EnvironmentFacts.
inline constexpr uint64_t kUnlimited = UINT64_MAX;

struct Listener {
  std::string host;  // as configured: "127.0.0.1", "::1", "[::1]", "localhost", "0.0.0.0", a name...
  bool tls = false;
};

struct EnvironmentFacts {
  bool dev_mode = false;
  // Core dumps.
  bool dumpable = true;             // prctl(PR_GET_DUMPABLE) != 0
  int suid_dumpable = 0;            // /proc/sys/fs/suid_dumpable (2 dumps even non-dumpable processes)
  uint64_t core_limit = 0;          // RLIMIT_CORE soft limit in bytes, kUnlimited for none
  bool core_pattern_is_pipe = false;  // /proc/sys/kernel/core_pattern starts with '|'
  // Memory locking.
  bool secret_memory_locked = true;  // SecretMemoryIsLocked()
  uint64_t memlock_limit = 0;        // RLIMIT_MEMLOCK soft limit in bytes, kUnlimited for none
  bool cap_ipc_lock = false;         // CAP_IPC_LOCK in the effective set (the limit does not apply)
  // Data directory.
  std::string data_dir;
  std::optional<uint32_t> data_dir_mode;  // st_mode of the directory; nullopt if stat failed
  bool data_dir_is_directory = false;
  std::string data_dir_error;             // why stat failed
  // Service.
  std::vector<Listener> listeners;
  bool backup_enabled = false;
  absl::Status audit_verification;  // the result of verifying the audit log
};

struct EnvironmentIssue {
  std::string code;     // one of the kEnv* constants
  std::string message;  // what is wrong and how to fix it
};

// One line per check that ran, pass or fail.
struct EnvironmentCheckItem {
  std::string name;    // "dev_mode", "core_dumps", "memory_lock", "data_dir", "listener", "backup", "audit_log"
  bool ok = false;
  std::string detail;  // what was observed
};

struct EnvironmentReport {
  bool valid = false;  // no errors
  std::vector<EnvironmentIssue> errors;
  std::vector<EnvironmentCheckItem> checks;

  bool HasError(std::string_view code) const;
  // {"valid", "errors": [{"code","message"}], "checks": [{"name","ok","detail"}]}
  nlohmann::json ToJson() const;
};

EnvironmentReport CheckEnvironment(const EnvironmentFacts& facts);

// What the daemon knows and the system cannot tell.
struct EnvironmentInputs {
  std::string data_dir;
  std::vector<Listener> listeners;
  bool dev_mode = false;
  bool backup_enabled = false;
  absl::Status audit_verification;  // OK if the audit log verified
};

// Reads the live process. A fact that cannot be read is recorded as the
// unsafe value (dumpable, no CAP_IPC_LOCK, stat failure), never guessed safe.
EnvironmentFacts GatherEnvironmentFacts(const EnvironmentInputs& inputs);

// True for "localhost", 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104 (brackets
// around IPv6 literals allowed). Names other than "localhost" are not
// resolved and count as non-loopback.
bool IsLoopbackHost(std::string_view host);

}  // namespace sigil::attest
