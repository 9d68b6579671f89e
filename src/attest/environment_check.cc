#include "attest/environment_check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>

#include "base/secret.h"

namespace sigil::attest {
namespace {

constexpr int kCapIpcLock = 14;  // linux/capability.h

std::string LimitText(uint64_t limit) {
  return limit == kUnlimited ? std::string("unlimited") : std::to_string(limit) + " bytes";
}

std::string ModeText(uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::optional<uint64_t> SoftLimit(int resource) {
  struct rlimit rl {};
  if (::getrlimit(resource, &rl) != 0) return std::nullopt;
  return rl.rlim_cur == RLIM_INFINITY ? kUnlimited : static_cast<uint64_t>(rl.rlim_cur);
}

// The first line of a small /proc file, or nullopt.
std::optional<std::string> ReadFirstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

bool HasCapIpcLock() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    unsigned long long caps = 0;
    if (std::sscanf(line.c_str() + 7, "%llx", &caps) != 1) return false;
    return (caps >> kCapIpcLock) & 1;
  }
  return false;
}

void Add(EnvironmentReport& report, const char* name, bool ok, std::string detail, const char* code = nullptr,
         std::string message = "") {
  report.checks.push_back(EnvironmentCheckItem{name, ok, std::move(detail)});
  if (!ok) report.errors.push_back(EnvironmentIssue{code, std::move(message)});
}

void CheckCoreDumps(const EnvironmentFacts& f, EnvironmentReport& report) {
  const bool process_dumps = f.dumpable || f.suid_dumpable == 2;
  const bool core_written = f.core_limit > 0 || f.core_pattern_is_pipe;
  std::string detail = std::string("dumpable=") + (f.dumpable ? "1" : "0") +
                       ", fs.suid_dumpable=" + std::to_string(f.suid_dumpable) +
                       ", RLIMIT_CORE=" + LimitText(f.core_limit) +
                       ", core_pattern " + (f.core_pattern_is_pipe ? "pipes to a program" : "writes a file");
  const bool ok = !(process_dumps && core_written);
  Add(report, "core_dumps", ok, detail, kEnvCoreDumpsPossible,
      "a crash would write a core dump of the daemon's memory (" + detail +
          "); leave allow_core_dumps off so the daemon calls prctl(PR_SET_DUMPABLE, 0), or set RLIMIT_CORE to 0 "
          "(LimitCORE=0 / ulimit -c 0) with a core_pattern that is not a pipe");
}

void CheckMemoryLock(const EnvironmentFacts& f, EnvironmentReport& report) {
  const std::string detail = std::string("secret memory ") + (f.secret_memory_locked ? "locked" : "NOT locked") +
                             ", RLIMIT_MEMLOCK=" + LimitText(f.memlock_limit) +
                             ", CAP_IPC_LOCK " + (f.cap_ipc_lock ? "held" : "not held");
  const bool limit_ok = f.cap_ipc_lock || f.memlock_limit >= kMinLockableBytes;
  const bool ok = f.secret_memory_locked && limit_ok;
  Add(report, "memory_lock", ok, detail, kEnvMemoryNotLockable,
      "secrets may be swapped to disk (" + detail + "); raise RLIMIT_MEMLOCK to at least " +
          std::to_string(kMinLockableBytes) + " bytes (LimitMEMLOCK= / ulimit -l) or grant CAP_IPC_LOCK");
}

void CheckDataDir(const EnvironmentFacts& f, EnvironmentReport& report) {
  if (!f.data_dir_mode) {
    Add(report, "data_dir", false, f.data_dir + ": " + f.data_dir_error, kEnvDataDirMissing,
        "cannot inspect the data directory " + f.data_dir + " (" + f.data_dir_error + ")");
    return;
  }
  if (!f.data_dir_is_directory) {
    Add(report, "data_dir", false, f.data_dir + " is not a directory", kEnvDataDirMissing,
        "the data directory " + f.data_dir + " is not a directory");
    return;
  }
  const uint32_t mode = *f.data_dir_mode;
  const std::string detail = f.data_dir + " mode " + ModeText(mode);
  const bool ok = (mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) == 0;
  Add(report, "data_dir", ok, detail, kEnvDataDirExposed,
      "the data directory " + f.data_dir + " (mode " + ModeText(mode) +
          ") is readable or writable by group or others; run chmod 700 " + f.data_dir);
}

void CheckListeners(const EnvironmentFacts& f, EnvironmentReport& report) {
  if (f.listeners.empty()) {
    Add(report, "listener", true, "no TCP listeners");
    return;
  }
  for (const Listener& l : f.listeners) {
    const bool loopback = IsLoopbackHost(l.host);
    const std::string detail = l.host + (loopback ? " (loopback)" : " (network)") + (l.tls ? " with TLS" : " without TLS");
    Add(report, "listener", l.tls || loopback, detail, kEnvInsecureListener,
        "the listener on " + l.host +
            " is reachable from the network without TLS, so bearer tokens travel in clear; configure tls_cert and "
            "tls_key, or listen on a loopback address");
  }
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  std::string h(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  std::string lower = h;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

bool EnvironmentReport::HasError(std::string_view code) const {
  return std::any_of(errors.begin(), errors.end(), [&](const EnvironmentIssue& e) { return e.code == code; });
}

nlohmann::json EnvironmentReport::ToJson() const {
  nlohmann::json errs = nlohmann::json::array();
  for (const EnvironmentIssue& e : errors) errs.push_back({{"code", e.code}, {"message", e.message}});
  nlohmann::json items = nlohmann::json::array();
  for (const EnvironmentCheckItem& c : checks) items.push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
  return nlohmann::json{{"valid", valid}, {"errors", std::move(errs)}, {"checks", std::move(items)}};
}

EnvironmentReport CheckEnvironment(const EnvironmentFacts& f) {
  EnvironmentReport report;
  Add(report, "dev_mode", !f.dev_mode, f.dev_mode ? "dev mode" : "production mode", kEnvDevMode,
      "the daemon runs in dev mode; start it with --config for production use");
  CheckCoreDumps(f, report);
  CheckMemoryLock(f, report);
  CheckDataDir(f, report);
  CheckListeners(f, report);
  Add(report, "backup", !f.backup_enabled, f.backup_enabled ? "key backups enabled" : "key backups disabled",
      kEnvBackupEnabled,
      "key backups are enabled, so an encrypted copy of every key can leave the daemon; set [backup] enabled = false "
      "once backups are taken");
  Add(report, "audit_log", f.audit_verification.ok(),
      f.audit_verification.ok() ? "audit log verified" : std::string(f.audit_verification.message()),
      kEnvAuditUnverifiable, "the audit log did not verify: " + std::string(f.audit_verification.message()));
  report.valid = report.errors.empty();
  return report;
}

EnvironmentFacts GatherEnvironmentFacts(const EnvironmentInputs& inputs) {
  EnvironmentFacts f;
  f.dev_mode = inputs.dev_mode;
  f.listeners = inputs.listeners;
  f.backup_enabled = inputs.backup_enabled;
  f.audit_verification = inputs.audit_verification;

  const int dumpable = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  f.dumpable = dumpable != 0;  // -1 (unknown) counts as dumpable
  f.suid_dumpable = 2;
  if (auto line = ReadFirstLine("/proc/sys/fs/suid_dumpable")) {
    int v = 0;
    if (std::sscanf(line->c_str(), "%d", &v) == 1) f.suid_dumpable = v;
  }
  // Unreadable limits take the unsafe extreme: unlimited core files, no lockable memory.
  f.core_limit = SoftLimit(RLIMIT_CORE).value_or(kUnlimited);
  const auto pattern = ReadFirstLine("/proc/sys/kernel/core_pattern");
  f.core_pattern_is_pipe = !pattern || (!pattern->empty() && pattern->front() == '|');

  f.secret_memory_locked = SecretMemoryIsLocked();
  f.memlock_limit = SoftLimit(RLIMIT_MEMLOCK).value_or(0);
  f.cap_ipc_lock = HasCapIpcLock();

  f.data_dir = inputs.data_dir;
  struct stat st {};
  if (::stat(inputs.data_dir.c_str(), &st) == 0) {
    f.data_dir_mode = static_cast<uint32_t>(st.st_mode);
    f.data_dir_is_directory = S_ISDIR(st.st_mode);
  } else {
    f.data_dir_error = std::strerror(errno);
  }
  return f;
}

}  // namespace sigil::attest
