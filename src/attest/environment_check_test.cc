#include "attest/environment_check.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <functional>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "testing/scoped_temp_dir.h"

namespace sigil::attest {
namespace {

// A process set up as production expects.
EnvironmentFacts GoodFacts() {
  EnvironmentFacts f;
  f.dev_mode = false;
  f.dumpable = false;
  f.suid_dumpable = 0;
  f.core_limit = 0;
  f.core_pattern_is_pipe = false;
  f.secret_memory_locked = true;
  f.memlock_limit = 8 << 20;
  f.cap_ipc_lock = false;
  f.data_dir = "/var/lib/sigil";
  f.data_dir_mode = S_IFDIR | 0700;
  f.data_dir_is_directory = true;
  f.listeners = {{"127.0.0.1", false}, {"0.0.0.0", true}};
  f.backup_enabled = false;
  f.audit_verification = absl::OkStatus();
  return f;
}

std::vector<std::string> Codes(const EnvironmentReport& r) {
  std::vector<std::string> codes;
  for (const auto& e : r.errors) codes.push_back(e.code);
  return codes;
}

TEST(EnvironmentCheck, GoodEnvironmentPassesEveryCheck) {
  EnvironmentReport r = CheckEnvironment(GoodFacts());
  EXPECT_TRUE(r.valid) << r.ToJson().dump(2);
  EXPECT_TRUE(r.errors.empty());
  std::set<std::string> names;
  for (const auto& c : r.checks) {
    EXPECT_TRUE(c.ok) << c.name;
    EXPECT_FALSE(c.detail.empty()) << c.name;
    names.insert(c.name);
  }
  EXPECT_EQ(names, (std::set<std::string>{"dev_mode", "core_dumps", "memory_lock", "data_dir", "listener", "backup",
                                          "audit_log"}));
  const nlohmann::json j = r.ToJson();
  EXPECT_EQ(j["valid"], true);
  EXPECT_TRUE(j["errors"].empty());
  EXPECT_EQ(j["checks"].size(), r.checks.size());
  EXPECT_TRUE(j["checks"][0].contains("name") && j["checks"][0].contains("ok") && j["checks"][0].contains("detail"));
}

struct Condition {
  const char* name;
  std::function<void(EnvironmentFacts&)> apply;
  const char* code;
};

TEST(EnvironmentCheck, EachConditionIsFlaggedWithItsOwnError) {
  const std::vector<Condition> conditions = {
      {"dev mode", [](auto& f) { f.dev_mode = true; }, kEnvDevMode},
      {"dumpable with core limit", [](auto& f) { f.dumpable = true; f.core_limit = kUnlimited; }, kEnvCoreDumpsPossible},
      {"dumpable with piped core_pattern", [](auto& f) { f.dumpable = true; f.core_pattern_is_pipe = true; }, kEnvCoreDumpsPossible},
      {"suid_dumpable=2 with core limit", [](auto& f) { f.suid_dumpable = 2; f.core_limit = 4096; }, kEnvCoreDumpsPossible},
      {"secret memory not locked", [](auto& f) { f.secret_memory_locked = false; }, kEnvMemoryNotLockable},
      {"memlock limit small", [](auto& f) { f.memlock_limit = 64 << 10; }, kEnvMemoryNotLockable},
      {"data dir missing", [](auto& f) { f.data_dir_mode.reset(); f.data_dir_error = "No such file or directory"; }, kEnvDataDirMissing},
      {"data dir not a directory", [](auto& f) { f.data_dir_mode = S_IFREG | 0600; f.data_dir_is_directory = false; }, kEnvDataDirMissing},
      {"data dir group-readable", [](auto& f) { f.data_dir_mode = S_IFDIR | 0740; }, kEnvDataDirExposed},
      {"data dir group-writable", [](auto& f) { f.data_dir_mode = S_IFDIR | 0720; }, kEnvDataDirExposed},
      {"data dir world-readable", [](auto& f) { f.data_dir_mode = S_IFDIR | 0704; }, kEnvDataDirExposed},
      {"data dir world-writable", [](auto& f) { f.data_dir_mode = S_IFDIR | 0702; }, kEnvDataDirExposed},
      {"plain listener on all interfaces", [](auto& f) { f.listeners.push_back({"0.0.0.0", false}); }, kEnvInsecureListener},
      {"plain listener on a LAN address", [](auto& f) { f.listeners.push_back({"192.168.1.10", false}); }, kEnvInsecureListener},
      {"plain listener on IPv6 any", [](auto& f) { f.listeners.push_back({"[::]", false}); }, kEnvInsecureListener},
      {"plain listener on a host name", [](auto& f) { f.listeners.push_back({"sigil.example", false}); }, kEnvInsecureListener},
      {"backup enabled", [](auto& f) { f.backup_enabled = true; }, kEnvBackupEnabled},
      {"audit log broken", [](auto& f) { f.audit_verification = absl::DataLossError("record 7: root mismatch"); }, kEnvAuditUnverifiable},
  };
  for (const Condition& c : conditions) {
    EnvironmentFacts f = GoodFacts();
    c.apply(f);
    EnvironmentReport r = CheckEnvironment(f);
    EXPECT_FALSE(r.valid) << c.name;
    EXPECT_EQ(Codes(r), std::vector<std::string>{c.code}) << c.name << ": " << r.ToJson().dump(2);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_FALSE(r.errors[0].message.empty());
    size_t failed = 0;
    for (const auto& item : r.checks) failed += item.ok ? 0 : 1;
    EXPECT_EQ(failed, 1u) << c.name;
  }
}

TEST(EnvironmentCheck, SafeVariantsAreNotFlagged) {
  const std::vector<std::pair<const char*, std::function<void(EnvironmentFacts&)>>> safe = {
      {"dumpable but no core written", [](auto& f) { f.dumpable = true; f.core_limit = 0; }},
      {"core limit but not dumpable", [](auto& f) { f.core_limit = kUnlimited; }},
      {"pipe but not dumpable", [](auto& f) { f.core_pattern_is_pipe = true; }},
      {"small memlock with CAP_IPC_LOCK", [](auto& f) { f.memlock_limit = 0; f.cap_ipc_lock = true; }},
      {"unlimited memlock", [](auto& f) { f.memlock_limit = kUnlimited; }},
      {"group may traverse only", [](auto& f) { f.data_dir_mode = S_IFDIR | 0711; }},
      {"no listeners", [](auto& f) { f.listeners.clear(); }},
      {"plain loopback listeners", [](auto& f) {
         f.listeners = {{"127.0.0.1", false}, {"127.8.9.10", false}, {"::1", false}, {"[::1]", false},
                        {"localhost", false}, {"LocalHost", false}, {"::ffff:127.0.0.1", false}};
       }},
  };
  for (const auto& [name, apply] : safe) {
    EnvironmentFacts f = GoodFacts();
    apply(f);
    EnvironmentReport r = CheckEnvironment(f);
    EXPECT_TRUE(r.valid) << name << ": " << r.ToJson().dump(2);
  }
}

TEST(EnvironmentCheck, EveryInsecureListenerIsNamed) {
  EnvironmentFacts f = GoodFacts();
  f.listeners = {{"0.0.0.0", false}, {"127.0.0.1", false}, {"10.0.0.1", false}};
  EnvironmentReport r = CheckEnvironment(f);
  ASSERT_EQ(Codes(r), (std::vector<std::string>{kEnvInsecureListener, kEnvInsecureListener}));
  EXPECT_NE(r.errors[0].message.find("0.0.0.0"), std::string::npos);
  EXPECT_NE(r.errors[1].message.find("10.0.0.1"), std::string::npos);
}

TEST(EnvironmentCheck, AllProblemsTogether) {
  EnvironmentFacts f = GoodFacts();
  f.dev_mode = true;
  f.dumpable = true;
  f.core_limit = kUnlimited;
  f.secret_memory_locked = false;
  f.data_dir_mode = S_IFDIR | 0777;
  f.listeners = {{"0.0.0.0", false}};
  f.backup_enabled = true;
  f.audit_verification = absl::DataLossError("truncated");
  EnvironmentReport r = CheckEnvironment(f);
  EXPECT_EQ(Codes(r), (std::vector<std::string>{kEnvDevMode, kEnvCoreDumpsPossible, kEnvMemoryNotLockable,
                                                kEnvDataDirExposed, kEnvInsecureListener, kEnvBackupEnabled,
                                                kEnvAuditUnverifiable}));
  EXPECT_NE(r.errors.back().message.find("truncated"), std::string::npos);
}

TEST(IsLoopbackHost, Classifies) {
  for (const char* h : {"127.0.0.1", "127.255.255.254", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackHost(h)) << h;
  }
  for (const char* h : {"", "0.0.0.0", "::", "[::]", "128.0.0.1", "10.0.0.1", "::ffff:10.0.0.1", "localhost.evil.com",
                        "127.0.0.1.nip.io", "[127.0.0.1]x", "fe80::1"}) {
    EXPECT_FALSE(IsLoopbackHost(h)) << h;
  }
}

TEST(GatherEnvironmentFacts, ReadsTheLiveProcess) {
  ScopedTempDir dir;
  ASSERT_FALSE(dir.path().empty());
  ASSERT_EQ(::chmod(dir.path().c_str(), 0700), 0);
  EnvironmentInputs in;
  in.data_dir = dir.path();
  in.listeners = {{"0.0.0.0", true}};
  in.dev_mode = true;
  in.backup_enabled = true;
  in.audit_verification = absl::DataLossError("bad root");
  EnvironmentFacts f = GatherEnvironmentFacts(in);
  EXPECT_TRUE(f.dev_mode);
  EXPECT_TRUE(f.backup_enabled);
  ASSERT_EQ(f.listeners.size(), 1u);
  EXPECT_TRUE(f.listeners[0].tls);
  EXPECT_EQ(f.audit_verification.code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE(f.data_dir_mode.has_value());
  EXPECT_TRUE(f.data_dir_is_directory);
  EXPECT_EQ(*f.data_dir_mode & 0777, 0700u);

  // Limits as this process sees them.
  struct rlimit core {};
  ASSERT_EQ(::getrlimit(RLIMIT_CORE, &core), 0);
  EXPECT_EQ(f.core_limit, core.rlim_cur == RLIM_INFINITY ? kUnlimited : core.rlim_cur);
  struct rlimit memlock {};
  ASSERT_EQ(::getrlimit(RLIMIT_MEMLOCK, &memlock), 0);
  EXPECT_EQ(f.memlock_limit, memlock.rlim_cur == RLIM_INFINITY ? kUnlimited : memlock.rlim_cur);
}

TEST(GatherEnvironmentFacts, SeesDataDirModesAndAbsence) {
  ScopedTempDir dir;
  ASSERT_FALSE(dir.path().empty());
  EnvironmentInputs in;
  in.data_dir = dir.path();
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  EXPECT_TRUE(CheckEnvironment(GatherEnvironmentFacts(in)).HasError(kEnvDataDirExposed));
  ASSERT_EQ(::chmod(dir.path().c_str(), 0700), 0);
  EXPECT_FALSE(CheckEnvironment(GatherEnvironmentFacts(in)).HasError(kEnvDataDirExposed));
  in.data_dir = dir.path() + "/missing";
  EnvironmentFacts f = GatherEnvironmentFacts(in);
  EXPECT_FALSE(f.data_dir_mode.has_value());
  EXPECT_FALSE(f.data_dir_error.empty());
  EXPECT_TRUE(CheckEnvironment(f).HasError(kEnvDataDirMissing));
}

TEST(GatherEnvironmentFacts, SeesTheDumpableFlagAndCoreLimit) {
  const int was_dumpable = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  struct rlimit old_core {};
  ASSERT_EQ(::getrlimit(RLIMIT_CORE, &old_core), 0);
  EnvironmentInputs in;
  in.data_dir = "/";

  ASSERT_EQ(::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), 0);
  EnvironmentFacts off = GatherEnvironmentFacts(in);
  EXPECT_FALSE(off.dumpable);

  ASSERT_EQ(::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
  struct rlimit zero = old_core;
  zero.rlim_cur = 0;
  ASSERT_EQ(::setrlimit(RLIMIT_CORE, &zero), 0);
  EnvironmentFacts on = GatherEnvironmentFacts(in);
  EXPECT_TRUE(on.dumpable);
  EXPECT_EQ(on.core_limit, 0u);
  // Dumpable with RLIMIT_CORE 0 dumps only if core_pattern is a pipe.
  EXPECT_EQ(CheckEnvironment(on).HasError(kEnvCoreDumpsPossible), on.core_pattern_is_pipe);

  ASSERT_EQ(::setrlimit(RLIMIT_CORE, &old_core), 0);
  ASSERT_EQ(::prctl(PR_SET_DUMPABLE, was_dumpable, 0, 0, 0), 0);
}

}  // namespace
}  // namespace sigil::attest
