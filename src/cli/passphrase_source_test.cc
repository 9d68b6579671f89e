#include "cli/passphrase_source.h"

#include <fcntl.h>
#include <pty.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace sigil::cli {
namespace {

std::string Text(const SecretBytes& s) { return std::string(s.RevealText(SecretAccess::Get())); }

std::string ReadAvailable(int fd) {
  std::string out;
  char buf[256];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// A pseudo-terminal stands in for the person at the keyboard: the prompt
// appears, the typed passphrase is not echoed, and echo is back afterwards.
TEST(PassphraseSourceTest, PromptOnATerminalDoesNotEchoAndRestoresEcho) {
  int master = -1, slave = -1;
  ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  termios before{};
  ASSERT_EQ(tcgetattr(slave, &before), 0);
  ASSERT_TRUE(before.c_lflag & ECHO);
  std::thread typist([&] {
    // Type once the prompt is there (echo is off by then).
    std::string seen;
    char c;
    while (seen.find(": ") == std::string::npos && ::read(master, &c, 1) == 1) seen.push_back(c);
    const std::string line = "correct horse battery\n";
    ASSERT_EQ(::write(master, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  });
  auto got = PromptLine(slave, slave, "Enter the backup passphrase: ");
  typist.join();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Text(*got), "correct horse battery");
  termios after{};
  ASSERT_EQ(tcgetattr(slave, &after), 0);
  EXPECT_TRUE(after.c_lflag & ECHO);
  // What the terminal showed: the prompt and a newline, never the passphrase.
  ASSERT_EQ(fcntl(master, F_SETFL, O_NONBLOCK), 0);
  const std::string shown = ReadAvailable(master);
  EXPECT_EQ(shown.find("horse"), std::string::npos) << shown;
  ::close(master);
  ::close(slave);
}

// ^C at the prompt ends the program with echo back on, not a terminal that
// no longer shows what is typed.
TEST(PassphraseSourceTest, InterruptAtThePromptRestoresEcho) {
  int master = -1, slave = -1;
  ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    (void)PromptLine(slave, slave, "Enter it: ");
    _exit(0);  // not reached: interrupted
  }
  std::string seen;
  char c;
  while (seen.find(": ") == std::string::npos && ::read(master, &c, 1) == 1) seen.push_back(c);
  termios during{};
  ASSERT_EQ(tcgetattr(slave, &during), 0);
  EXPECT_FALSE(during.c_lflag & ECHO);  // the prompt is up with echo off
  ASSERT_EQ(kill(child, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);  // still ends as ^C does
  termios after{};
  ASSERT_EQ(tcgetattr(slave, &after), 0);
  EXPECT_TRUE(after.c_lflag & ECHO);
  ::close(master);
  ::close(slave);
}

// ^Z at the prompt is ignored: a stopped and resumed prompt would go on with
// echo back on.
TEST(PassphraseSourceTest, SuspendAtThePromptIsIgnored) {
  int master = -1, slave = -1;
  ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto got = PromptLine(slave, slave, "Enter it: ");
    _exit(got.ok() && std::string(got->RevealText(SecretAccess::Get())) == "typed-after-tstp" ? 0 : 1);
  }
  std::string seen;
  char c;
  while (seen.find(": ") == std::string::npos && ::read(master, &c, 1) == 1) seen.push_back(c);
  ASSERT_EQ(kill(child, SIGTSTP), 0);
  int status = 0;
  usleep(100 * 1000);
  EXPECT_EQ(waitpid(child, &status, WUNTRACED | WNOHANG), 0) << "the prompt must not stop";
  const std::string line = "typed-after-tstp\n";
  ASSERT_EQ(::write(master, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_EQ(fcntl(master, F_SETFL, O_NONBLOCK), 0);
  EXPECT_EQ(ReadAvailable(master).find("typed-after"), std::string::npos);
  ::close(master);
  ::close(slave);
}

TEST(PassphraseSourceTest, EndOfInputWithoutANewlineIsRefused) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(::write(fds[1], "s3cret-typed", 12), 12);
  ::close(fds[1]);
  int devnull = ::open("/dev/null", O_WRONLY);
  auto got = PromptLine(fds[0], devnull, "? ");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(got.status().message()).find("s3cret"), std::string::npos);
  ::close(fds[0]);
  ::close(devnull);
}

TEST(PassphraseSourceTest, FileNamedByTheVariableWinsAndIsBounded) {
  char dir[] = "/tmp/sigil-pass-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/pass";
  {
    std::ofstream(path) << "from the file\r\n";
  }
  ASSERT_EQ(setenv("SIGIL_TEST_PASSPHRASE_FILE", path.c_str(), 1), 0);
  auto got = ReadPassphrase("SIGIL_TEST_PASSPHRASE_FILE", "test passphrase", /*confirm=*/true);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(Text(*got), "from the file");
  {
    std::ofstream(path) << std::string(kMaxPassphraseBytes + 1, 'x');
  }
  EXPECT_EQ(ReadPassphrase("SIGIL_TEST_PASSPHRASE_FILE", "test passphrase", false).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_EQ(setenv("SIGIL_TEST_PASSPHRASE_FILE", (path + ".missing").c_str(), 1), 0);
  EXPECT_EQ(ReadPassphrase("SIGIL_TEST_PASSPHRASE_FILE", "test passphrase", false).status().code(),
            absl::StatusCode::kNotFound);
  unsetenv("SIGIL_TEST_PASSPHRASE_FILE");
  std::remove(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace sigil::cli
