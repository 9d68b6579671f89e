#include "cli/commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/http_server.h"

namespace sigil::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Sent {
  std::string method, url, path, body, token;
};

// What a command did: its exit status, what it printed and what it sent.
struct Outcome {
  int code = -1;
  std::string out, err;
  std::vector<Sent> sent;
  nlohmann::json json() const { return nlohmann::json::parse(out, nullptr, false); }
};

// Runs `sigil ARGS...` as main() does for the client commands, against a
// fake daemon that answers every request with `answer` (or fails with
// `transport_error`). SIGIL_URL and SIGIL_TOKEN are unset for the run.
class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("SIGIL_URL");
    ::unsetenv("SIGIL_TOKEN");
    dir_ = (std::filesystem::temp_directory_path() / ("sigil-cli-test-" + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    ::unsetenv("SIGIL_TOKEN");
    std::filesystem::remove_all(dir_);
  }

  Outcome Run(std::vector<std::string> args) {
    Outcome r;
    ClientOptions o;
    o.transport = [&](const std::string& method, const std::string& url, const std::string& path,
                      const std::string& body, const SecretBytes& token) -> absl::StatusOr<ApiResponse> {
      r.sent.push_back({method, url, path, body, std::string(token.RevealText(SecretAccess::Get()))});
      if (!transport_error.ok()) return transport_error;
      return answer;
    };
    CLI::App app{"sigil"};
    app.require_subcommand(1);
    AddClientCommands(app, o);
    args.insert(args.begin(), "sigil");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    std::ostringstream out, err;
    auto* old_out = std::cout.rdbuf(out.rdbuf());
    auto* old_err = std::cerr.rdbuf(err.rdbuf());
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
      r.code = o.exit_code;
    } catch (const CLI::ParseError& e) {
      r.code = e.get_exit_code() == 0 ? 0 : kExitBadInput;
      err << e.what();
    }
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  static ApiResponse Reply(int status, nlohmann::json body, std::string text = "") {
    return {status, std::move(body), std::move(text)};
  }

  ApiResponse answer = Reply(200, nlohmann::json::object());
  absl::Status transport_error;
  std::string dir_;
};

std::string Nested(size_t depth) { return "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}"; }

// A --tx file nested 200,000 deep crashed the CLI (the document is copied
// into the request, recursively). It is refused before it is parsed, with
// exit 2, and nothing is sent; 64 levels, the daemon's limit, still pass.
TEST_F(CommandsTest, ExplainJsonArgumentsAreDepthBounded) {
  const std::string deep = WriteFile("deep.json", Nested(200000));
  for (const std::string& arg : {deep, "@" + deep, Nested(65)}) {
    Outcome r = Run({"policy", "explain", "--key", "k", "--tx", arg, "--token", "t"});
    EXPECT_EQ(r.code, kExitBadInput);
    EXPECT_THAT(r.err, HasSubstr("--tx: JSON nests deeper than 64 levels"));
    EXPECT_TRUE(r.sent.empty());
  }
  Outcome td = Run({"policy", "explain", "--key", "k", "--typed-data", "@" + deep, "--token", "t"});
  EXPECT_EQ(td.code, kExitBadInput);
  EXPECT_THAT(td.err, HasSubstr("--typed-data: JSON nests deeper than 64 levels"));
  EXPECT_TRUE(td.sent.empty());

  Outcome ok = Run({"policy", "explain", "--key", "k", "--tx", Nested(64), "--token", "t"});
  EXPECT_EQ(ok.code, kExitOk) << ok.err;
  ASSERT_EQ(ok.sent.size(), 1u);
  EXPECT_EQ(ok.sent[0].path, "/v1/policy/explain");
}

TEST_F(CommandsTest, ExplainTakesOneRequestKind) {
  Outcome r = Run({"policy", "explain", "--key", "k", "--tx", "{}", "--message", "hi", "--token", "t"});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_TRUE(r.sent.empty());
}

// A folder given as a file read as empty and failed as "not valid JSON".
TEST_F(CommandsTest, ReadFileBoundedNamesWhyAFileCannotBeRead) {
  EXPECT_THAT(ReadFileBounded(dir_).status().message(), HasSubstr("Is a directory"));
  EXPECT_THAT(ReadFileBounded(dir_ + "/none").status().message(), HasSubstr("No such file or directory"));
  EXPECT_THAT(ReadFileBounded(WriteFile("big", std::string(11, 'x')), 10).status().message(),
              HasSubstr("larger than 10"));
  EXPECT_EQ(*ReadFileBounded(WriteFile("ok", "0123456789"), 10), "0123456789");
}

// A malformed --url is bad input (2), not "daemon unavailable" (3).
TEST_F(CommandsTest, TransportErrorsMapToBadInputOrUnavailable) {
  transport_error = absl::InvalidArgumentError("invalid URL \"ftp://x\": expected http://, https:// or unix:");
  EXPECT_EQ(Run({"key", "list", "--token", "t"}).code, kExitBadInput);
  transport_error = absl::UnavailableError("cannot reach sigil daemon at http://127.0.0.1:1: connection refused");
  Outcome r = Run({"key", "list", "--token", "t", "--json"});
  EXPECT_EQ(r.code, kExitUnavailable);
  EXPECT_EQ(r.json()["error"], "cannot reach sigil daemon at http://127.0.0.1:1: connection refused");
}

TEST_F(CommandsTest, TheTokenNeverReachesAMessage) {
  const std::string token = "sgl_0123456789abcdef0123456789abcdef";
  transport_error = absl::InvalidArgumentError("invalid URL \"" + token + "\": expected http://, https:// or unix:");
  Outcome r = Run({"key", "list", "--url", token, "--token", token, "--json"});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_THAT(r.err, Not(HasSubstr(token)));
  EXPECT_THAT(r.out, Not(HasSubstr(token)));
  EXPECT_THAT(r.err, HasSubstr("<token>"));

  transport_error = absl::OkStatus();
  answer = Reply(403, {{"error", "token " + token + " may not do that"}});
  r = Run({"key", "create", "x", "--token", token});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_THAT(r.err, Not(HasSubstr(token)));
}

// A token with a line break or a space inside was refused by the HTTP
// client as an "invalid HTTP header", exit 3. It is bad input, named by
// where it came from, and not echoed; a trailing line end is trimmed.
TEST_F(CommandsTest, AMalformedTokenIsBadInputAndNotEchoed) {
  Outcome r = Run({"key", "list", "--token", "sgl_secret\nX-Evil: 1"});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_THAT(r.err, HasSubstr("the token from --token contains spaces or control characters"));
  EXPECT_THAT(r.err, Not(HasSubstr("sgl_secret")));
  EXPECT_TRUE(r.sent.empty());

  ::setenv("SIGIL_TOKEN", "sgl_from_env\r\n", 1);
  r = Run({"key", "list"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  ASSERT_EQ(r.sent.size(), 1u);
  EXPECT_EQ(r.sent[0].token, "sgl_from_env");
}

// `--data DIR` is a flag and beats SIGIL_TOKEN from the environment (an
// agent's token left exported in the shell ignored the admin's --data).
TEST_F(CommandsTest, TokenPrecedenceIsFlagThenDataThenEnvironment) {
  WriteFile("admin.token", "sgl_admin_from_file\n");
  ::setenv("SIGIL_TOKEN", "sgl_agent_from_env", 1);
  Outcome r = Run({"key", "list", "--data", dir_});
  ASSERT_EQ(r.sent.size(), 1u);
  EXPECT_EQ(r.sent[0].token, "sgl_admin_from_file");
  r = Run({"key", "list", "--data", dir_, "--token", "sgl_flag"});
  ASSERT_EQ(r.sent.size(), 1u);
  EXPECT_EQ(r.sent[0].token, "sgl_flag");
  r = Run({"key", "list"});
  ASSERT_EQ(r.sent.size(), 1u);
  EXPECT_EQ(r.sent[0].token, "sgl_agent_from_env");
  r = Run({"key", "list", "--data", dir_ + "/missing"});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_THAT(r.err, HasSubstr("admin.token is not readable"));
}

// With --json, stdout holds one JSON document whatever happened, local
// input errors included (they printed nothing before).
TEST_F(CommandsTest, JsonFailuresPrintOneErrorDocument) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"policy", "apply", dir_ + "/none.json", "--token", "t", "--json"},
           {"policy", "explain", "--key", "k", "--tx", "{\"to\":", "--token", "t", "--json"},
           {"policy", "explain", "--key", "k", "--token", "t", "--json"},
           {"backup", "create", "--out", dir_ + "/b", "--shares", "2/3x", "--token", "t", "--json"}}) {
    Outcome r = Run(args);
    EXPECT_EQ(r.code, kExitBadInput) << args[1];
    ASSERT_FALSE(r.json().is_discarded()) << r.out;
    EXPECT_TRUE(r.json()["error"].is_string()) << r.out;
    EXPECT_TRUE(r.sent.empty());
  }
}

// "2/3x" was read as 2 of 3 (std::stoi stops at the first non-digit).
TEST_F(CommandsTest, SharesMustBeTwoWholeNumbers) {
  for (const char* bad : {"2/3x", "2.5/3", "2/", "/3", "2/3/4", "two/3"}) {
    Outcome r = Run({"backup", "create", "--out", dir_ + "/b", "--shares", bad, "--token", "t"});
    EXPECT_EQ(r.code, kExitBadInput) << bad;
    EXPECT_THAT(r.err, HasSubstr("--shares takes M/N")) << bad;
    EXPECT_TRUE(r.sent.empty()) << bad;
  }
  answer = Reply(200, {{"file_base64", "AAEC"}, {"shares", {"s1", "s2", "s3"}}, {"keys", 1}, {"backup_id", "b"}});
  Outcome r = Run({"backup", "create", "--out", dir_ + "/b", "--shares", "2/3", "--token", "t", "--json"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  ASSERT_EQ(r.sent.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(r.sent[0].body)["shares"], (nlohmann::json{{"m", 2}, {"n", 3}}));
  EXPECT_EQ(r.json()["files"].size(), 4u);
}

// A shared backup is written whole before any file is renamed into place:
// a share that cannot be written (here its temporary name is taken) leaves
// yesterday's backup file and shares as they were, not a new file beside
// old shares, and no temporary file behind.
TEST_F(CommandsTest, ASharedBackupReplacesTheOldOneWholeOrNotAtAll) {
  const std::string out = dir_ + "/b";
  for (const std::string& f : {out, out + ".1", out + ".2", out + ".3"}) std::ofstream(f) << "old " << f;
  const std::string blocker = out + ".2.tmp-" + std::to_string(::getpid());
  std::filesystem::create_directory(blocker);
  answer = Reply(200, {{"file_base64", "AAEC"}, {"shares", {"s1", "s2", "s3"}}, {"keys", 1}, {"backup_id", "b"}});
  Outcome r = Run({"backup", "create", "--out", out, "--shares", "2/3", "--token", "t"});
  EXPECT_NE(r.code, kExitOk);
  EXPECT_THAT(r.err, HasSubstr("cannot write " + out + ".2"));
  auto read = [](const std::string& f) {
    std::ifstream in(f);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  for (const std::string& f : {out, out + ".1", out + ".2", out + ".3"}) EXPECT_EQ(read(f), "old " + f);
  std::filesystem::remove(blocker);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 4u);  // no temporary left
  // Unblocked, all four are replaced.
  r = Run({"backup", "create", "--out", out, "--shares", "2/3", "--token", "t"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(read(out + ".2"), "s2");
  EXPECT_EQ(read(out), std::string("\x00\x01\x02", 3));
}

// Shares go beside --out as FILE.1 ... FILE.N: with a device as --out they
// would land in /dev. And only as many shares as asked for are written.
TEST_F(CommandsTest, SharesNeedAFileAndTheCountAskedFor) {
  Outcome r = Run({"backup", "create", "--out", "/dev/null", "--shares", "2/3", "--token", "t"});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_THAT(r.err, HasSubstr("--shares needs --out to name a file"));
  EXPECT_TRUE(r.sent.empty());
  answer = Reply(200, {{"file_base64", "AAEC"}, {"shares", {"s1", "s2", "s3", "s4", "s5"}}, {"keys", 1}, {"backup_id", "b"}});
  r = Run({"backup", "create", "--out", dir_ + "/b", "--shares", "2/3", "--token", "t"});
  EXPECT_EQ(r.code, kExitUnavailable);
  EXPECT_THAT(r.err, HasSubstr("sent 5 shares for 3 asked"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/b"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/b.4"));
}

// A backup split into fewer shares than the one it replaces (or not split)
// removes the older backup's higher-numbered shares, once the new files are
// in place, and nothing that is not such a share.
TEST_F(CommandsTest, AFewerSharesBackupRemovesTheOlderBackupsExtraShares) {
  const std::string out = dir_ + "/b";
  auto share = [](const std::string& id, int k) {
    return "sigil-backup-share 1\nbackup-id " + id + "\nthreshold 3\ncount 5\nindex " + std::to_string(k) +
           "\nshare 00\nchecksum 00000000\n";
  };
  const std::string old_id = "0123456789abcdef0123456789ABCDEF";
  for (int k = 1; k <= 5; ++k) std::ofstream(out + "." + std::to_string(k)) << share(old_id, k);
  std::ofstream(out + ".7") << "my notes, not a share";
  std::filesystem::create_symlink(out + ".1", out + ".8");  // a link is not followed, so not removed
  std::ofstream(out + ".9") << share("fedcba9876543210fedcba9876543210", 9).substr(0, 40);  // cut short
  const std::string new_id = "00112233445566778899aabbccddeeff";
  answer = Reply(200, {{"file_base64", "AAEC"}, {"shares", {"s1", "s2", "s3"}}, {"keys", 1}, {"backup_id", new_id}});
  Outcome r = Run({"backup", "create", "--out", out, "--shares", "2/3", "--token", "t", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.json()["removed_stale_shares"], (nlohmann::json{out + ".4", out + ".5"}));
  for (const char* gone : {".4", ".5"}) EXPECT_FALSE(std::filesystem::exists(out + gone)) << gone;
  for (const char* kept : {".1", ".2", ".3", ".7", ".9"}) EXPECT_TRUE(std::filesystem::exists(out + kept)) << kept;
  EXPECT_TRUE(std::filesystem::is_symlink(out + ".8"));
  EXPECT_THAT(r.err, HasSubstr(out + ".7 in place"));

  // A passphrase backup over a shared one: the replaced backup's shares go,
  // from FILE.1 on; a share of another backup (which may live on
  // elsewhere) and a file that is not a share stay.
  const std::string replaced_id = "aaaabbbbccccddddeeeeffff00001111";
  std::ofstream(out + ".1", std::ios::trunc) << share(replaced_id, 1);
  std::ofstream(out + ".2", std::ios::trunc) << share(replaced_id, 2);
  std::ofstream(out + ".3", std::ios::trunc) << "not a share";
  std::ofstream(out + ".6") << share(old_id, 6);
  const std::string pass = dir_ + "/pass";
  std::ofstream(pass) << "a long backup passphrase\n";
  ::setenv("SIGIL_BACKUP_PASSPHRASE_FILE", pass.c_str(), 1);
  answer = Reply(200, {{"file_base64", "AAEC"}, {"keys", 1}, {"backup_id", new_id}});
  r = Run({"backup", "create", "--out", out, "--token", "t", "--json"});
  ::unsetenv("SIGIL_BACKUP_PASSPHRASE_FILE");
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.json()["removed_stale_shares"], (nlohmann::json{out + ".1", out + ".2"}));
  EXPECT_TRUE(std::filesystem::exists(out + ".3"));
  EXPECT_TRUE(std::filesystem::exists(out + ".6"));
  EXPECT_THAT(r.err, HasSubstr(out + ".6 in place"));
}

// A proxy's error page in Latin-1 is not UTF-8: printing it as JSON must
// not abort the CLI (nlohmann's dump throws on it by default).
TEST_F(CommandsTest, AnAnswerThatIsNotUtf8IsPrintedNotThrownOver) {
  answer = Reply(502, {{"error", "proxy error \xe9t\xe9"}});
  Outcome r = Run({"key", "list", "--token", "t", "--json"});
  EXPECT_EQ(r.code, kExitUnavailable);
  EXPECT_TRUE(r.json().is_object()) << r.out;
  EXPECT_THAT(r.err, HasSubstr("proxy error"));
}

// An admin.token that is a FIFO is not opened (the open would wait for a
// writer forever).
TEST_F(CommandsTest, AnAdminTokenThatIsAFifoIsNotRead) {
  ASSERT_EQ(::mkfifo((dir_ + "/admin.token").c_str(), 0600), 0);
  Outcome r = Run({"key", "list", "--data", dir_});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_THAT(r.err, HasSubstr("admin.token is not readable"));
  EXPECT_TRUE(r.sent.empty());
}

// An --out in a folder that does not exist is bad input, found before the
// daemon makes (and audits) a backup or export nobody receives.
TEST_F(CommandsTest, OutputPathIsCheckedFirst) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"backup", "create", "--out", dir_ + "/no/b", "--shares", "2/3"},
                                             {"audit", "export", "--out", dir_ + "/no/a"},
                                             {"attest", "get", "--nonce", "00", "--out", dir_ + "/no/r"},
                                             {"audit", "export", "--out", dir_}}) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--token", "t"});
    Outcome r = Run(a);
    EXPECT_EQ(r.code, kExitBadInput) << a[2];
    EXPECT_THAT(r.err, HasSubstr("cannot write")) << a[2];
    EXPECT_TRUE(r.sent.empty()) << a[2];
  }
}

TEST_F(CommandsTest, AttestGetPrintsTheReportOnlyOnceItIsWritten) {
  answer = Reply(200, {{"nonce", "00"}, {"debug", true}});
  const std::string out = dir_ + "/report.json";
  Outcome r = Run({"attest", "get", "--nonce", "00", "--out", out, "--token", "t", "--json"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.json(), answer.body);
  EXPECT_EQ(nlohmann::json::parse(*ReadFileBounded(out)), answer.body);
  // A report that could not be saved prints nothing that looks like success
  // (it was printed first, then the write failed).
  r = Run({"attest", "get", "--nonce", "00", "--out", "/dev/full", "--token", "t"});
  EXPECT_EQ(r.code, kExitUnavailable);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("cannot write /dev/full"));
}

// The details of a refusal (the errors of an invalid policy) are part of
// the error and go to stderr; stdout stays empty without --json.
TEST_F(CommandsTest, RefusalDetailsGoToStderr) {
  answer =
      Reply(400, {{"error", "invalid policy; the policy in force is unchanged"}, {"errors", {"rules[0].effect: bad"}}});
  const std::string policy = WriteFile("p.json", "{}");
  Outcome r = Run({"policy", "apply", policy, "--token", "t"});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("sigil: invalid policy"));
  EXPECT_THAT(r.err, HasSubstr("rules[0].effect: bad"));
  r = Run({"policy", "apply", policy, "--token", "t", "--json"});
  EXPECT_EQ(r.json(), answer.body);

  answer = Reply(500, nlohmann::json{{"detail", "x"}});
  r = Run({"key", "list", "--token", "t"});
  EXPECT_EQ(r.code, kExitUnavailable);
  EXPECT_THAT(r.err, HasSubstr("sigil: the daemon answered HTTP 500"));
}

// The daemon answers a live log that does not verify with 409: that is the
// verdict (exit 1, as for an export verified offline), not bad input (2).
TEST_F(CommandsTest, LiveAuditVerifyThatFailsIsARefusal) {
  answer = Reply(409, {{"valid", false}, {"errors", {{{"offset", 6067}, {"what", "damaged frame"}}}}, {"records", 21}});
  Outcome r = Run({"audit", "verify", "--token", "t", "--json"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.json(), answer.body);
  EXPECT_THAT(r.err, HasSubstr("the audit log does not verify"));
  r = Run({"audit", "verify", "--token", "t"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_THAT(r.out, HasSubstr("damaged frame"));

  answer = Reply(200, {{"valid", true}, {"errors", nlohmann::json::array()}, {"records", 21}});
  r = Run({"audit", "verify", "--token", "t", "--json"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.json(), answer.body);

  answer = Reply(403, {{"error", "this token may not read the audit log"}});
  EXPECT_EQ(Run({"audit", "verify", "--token", "t"}).code, kExitRefused);
}

TEST_F(CommandsTest, AFailedEnvironmentCheckSaysWhichChecksFailed) {
  answer = Reply(200, {{"valid", false},
                       {"checks",
                        {{{"name", "dev_mode"}, {"ok", false}},
                         {{"name", "core_dumps"}, {"ok", true}},
                         {{"name", "backup"}, {"ok", false}}}}});
  Outcome r = Run({"attest", "check", "--token", "t", "--json"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_EQ(r.json(), answer.body);
  EXPECT_THAT(r.err, HasSubstr("the environment check failed: dev_mode, backup"));
}

TEST_F(CommandsTest, EmptyNamesAndIdsAreRefused) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"key", "show", ""},
                                                                {"key", "rotate", ""},
                                                                {"token", "revoke", ""},
                                                                {"token", "totp", ""},
                                                                {"approval", "show", ""},
                                                                {"approval", "approve", ""},
                                                                {"approval", "reject", ""}}) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--token", "t"});
    Outcome r = Run(a);
    EXPECT_EQ(r.code, kExitBadInput) << a[0] << " " << a[1];
    EXPECT_THAT(r.err, HasSubstr("must not be empty")) << a[0] << " " << a[1];
    EXPECT_TRUE(r.sent.empty()) << a[0] << " " << a[1];
  }
}

// A CSV report was printed as "error: seq,time,..." (a body that is not
// JSON reads as an error) and exit 0.
TEST_F(CommandsTest, AuditReportAsCsvIsPrintedAsSent) {
  const std::string csv = "seq,time\r\n0,1\r\n";
  answer = Reply(200, {{"error", csv}}, csv);
  Outcome r = Run({"audit", "report", "--format", "csv", "--token", "t"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, csv);
  ASSERT_EQ(r.sent.size(), 1u);
  EXPECT_THAT(r.sent[0].path, HasSubstr("&format=csv"));
  EXPECT_EQ(Run({"audit", "report", "--format", "csv", "--json", "--token", "t"}).code, kExitBadInput);
  Outcome xml = Run({"audit", "report", "--format", "xml", "--token", "t"});
  EXPECT_EQ(xml.code, kExitBadInput);
  EXPECT_TRUE(xml.sent.empty());
}

// An audit export arrives whole and hex encoded; the HTTP client's 8 MiB
// default refused the export of a log past about 15,000 records (exit 3).
TEST(HttpApiTransportTest, AcceptsAnswersLargerThanTheHttpClientDefault) {
  const std::string hex(20 << 20, 'a');
  net::HttpServerOptions options;
  options.listeners.push_back(net::ListenerConfig::Tcp("127.0.0.1", 0));
  auto server = net::HttpServer::Start(std::move(options), [&](const net::HttpRequest&) {
    return net::HttpResponse::Json(200, nlohmann::json{{"export_hex", hex}}.dump());
  });
  ASSERT_TRUE(server.ok()) << server.status();
  auto response = HttpApiTransport()("GET", (*server)->listeners().at(0).url, "/v1/audit/export", "", SecretBytes());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body["export_hex"].get_ref<const std::string&>().size(), hex.size());
}

}  // namespace
}  // namespace sigil::cli
