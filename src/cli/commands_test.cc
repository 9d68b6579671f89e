#include "cli/commands.h"

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
    o.transport = [&](const std::string& method, const std::string& url, const std::string& path, const std::string& body,
                      const SecretBytes& token) -> absl::StatusOr<ApiResponse> {
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

  ApiResponse answer{200, nlohmann::json::object()};
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

}  // namespace
}  // namespace sigil::cli
