#include "daemon/alert_webhook.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <sstream>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "net/http_server.h"

namespace sigil::daemon {
namespace {

// A receiver on loopback that records what it gets and answers with the
// statuses it is given, one per request (then 200).
class Receiver {
 public:
  explicit Receiver(std::vector<int> statuses = {}) : statuses_(std::move(statuses)) {
    net::HttpServerOptions o;
    o.listeners = {net::ListenerConfig::Tcp("127.0.0.1", 0)};
    o.worker_threads = 1;
    auto s = net::HttpServer::Start(std::move(o), [this](const net::HttpRequest& req) {
      absl::MutexLock lock(&mu_);
      bodies_.push_back(req.method + " " + req.target + " " + req.headers.Get("Content-Type").value_or("") + "\n" + req.body);
      int status = next_ < statuses_.size() ? statuses_[next_] : 200;
      ++next_;
      return net::HttpResponse::Text(status, "ok");
    });
    EXPECT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }
  std::string url(const std::string& path) const { return server_->listeners().at(0).url + path; }
  std::vector<std::string> bodies() {
    absl::MutexLock lock(&mu_);
    return bodies_;
  }
  size_t count() {
    absl::MutexLock lock(&mu_);
    return bodies_.size();
  }

 private:
  absl::Mutex mu_;
  std::vector<int> statuses_;
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> bodies_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<net::HttpServer> server_;
};

AlertWebhookOptions Fast() {
  AlertWebhookOptions o;
  o.first_retry = absl::Milliseconds(20);
  o.timeout = absl::Seconds(2);
  return o;
}

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); ++i) absl::SleepFor(absl::Milliseconds(10));
  return done();
}

TEST(AlertWebhookTest, PostsEachAlertAsJsonToTheUrl) {
  Receiver rx;
  auto hook = AlertWebhook::Create(rx.url("/hooks/T0KEN-IN-PATH"), Fast());
  ASSERT_TRUE(hook.ok()) << hook.status();
  (*hook)->Notify("suspend_agent", {{"agent", "bot-1"}, {"trigger", "denials"}});
  (*hook)->Notify("alert", {{"agent", "bot-2"}});
  ASSERT_TRUE(WaitFor([&] { return (*hook)->delivered() == 2; }));
  std::vector<std::string> got = rx.bodies();
  ASSERT_EQ(got.size(), 2u);
  const std::string head = "POST /hooks/T0KEN-IN-PATH application/json\n";
  ASSERT_EQ(got[0].rfind(head, 0), 0u) << got[0];
  auto first = nlohmann::json::parse(got[0].substr(head.size()));
  EXPECT_EQ(first["event"], "sigil.alert");
  EXPECT_EQ(first["kind"], "suspend_agent");
  EXPECT_EQ(first["details"]["agent"], "bot-1");
  EXPECT_EQ(first["at"].get<std::string>().size(), 20u);  // 2026-11-22T08:00:00Z
  EXPECT_EQ(nlohmann::json::parse(got[1].substr(head.size()))["kind"], "alert");  // in order
  EXPECT_EQ((*hook)->dropped(), 0u);
}

TEST(AlertWebhookTest, RetriesUntilA2xxThenGivesUp) {
  Receiver rx({500, 503, 200, 500, 500, 500});
  auto hook = AlertWebhook::Create(rx.url("/"), Fast());
  ASSERT_TRUE(hook.ok());
  (*hook)->Notify("alert", {{"n", 1}});  // 500, 503, then 200: delivered on the third attempt
  ASSERT_TRUE(WaitFor([&] { return (*hook)->delivered() == 1; }));
  EXPECT_EQ(rx.count(), 3u);
  (*hook)->Notify("alert", {{"n", 2}});  // 500 three times: dropped after the third
  ASSERT_TRUE(WaitFor([&] { return (*hook)->dropped() == 1; }));
  EXPECT_EQ(rx.count(), 6u);
  EXPECT_EQ((*hook)->delivered(), 1u);
}

TEST(AlertWebhookTest, ADeadReceiverNeitherBlocksNorGrowsTheQueue) {
  AlertWebhookOptions o = Fast();
  o.max_queued = 4;
  o.first_retry = absl::Seconds(30);  // the sender sits in its first wait
  o.shutdown_grace = absl::Milliseconds(200);
  auto hook = AlertWebhook::Create("http://127.0.0.1:1/", o);  // nothing listens on port 1
  ASSERT_TRUE(hook.ok());
  absl::Time start = absl::Now();
  for (int i = 0; i < 50; ++i) (*hook)->Notify("alert", {{"n", i}});
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));  // Notify never waits for the network
  // One is being sent (or waiting to retry), four are queued, the rest dropped.
  EXPECT_GE((*hook)->dropped(), 45u);
  start = absl::Now();
  hook->reset();  // shutdown cuts the 30 s wait short
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST(AlertWebhookTest, AReceiverThatNeverAnswersDoesNotHoldShutdownPastItsGrace) {
  // A listening socket nobody accepts from: connects succeed (the kernel's
  // backlog), requests are never answered.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  AlertWebhookOptions o = Fast();
  o.timeout = absl::Seconds(1);  // each attempt waits this long for an answer
  o.shutdown_grace = absl::Milliseconds(300);
  auto hook = AlertWebhook::Create("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/", o);
  ASSERT_TRUE(hook.ok());
  for (int i = 0; i < 6; ++i) (*hook)->Notify("alert", {{"n", i}});
  absl::SleepFor(absl::Milliseconds(100));  // the first attempt is waiting for an answer
  absl::Time start = absl::Now();
  hook->reset();
  // The attempt under way ends at its timeout (1 s); after it, nothing may
  // start past the grace. Giving every queued alert its own full attempt
  // would take 6 s or more.
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(3500));
  EXPECT_EQ((*hook).get(), nullptr);
  close(fd);
}

// Drops are logged at most once per 10 s, but none goes unlogged: what the
// window held back is logged when it ends or when the notifier goes.
TEST(AlertWebhookTest, EveryDropIsLoggedEventuallyWithItsCount) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  {
    AlertWebhookOptions o = Fast();
    o.attempts = 1;
    auto hook = AlertWebhook::Create("http://127.0.0.1:1/", o);  // nothing listens on port 1
    ASSERT_TRUE(hook.ok());
    (*hook)->Notify("alert", {{"n", 1}});
    ASSERT_TRUE(WaitFor([&] { return (*hook)->dropped() == 1; }));
    (*hook)->Notify("alert", {{"n", 2}});  // within the same 10 s window
    ASSERT_TRUE(WaitFor([&] { return (*hook)->dropped() == 2; }));
  }
  spdlog::set_default_logger(previous);
  int lines = 0, counted = 0;
  std::istringstream in(log.str());
  for (std::string line; std::getline(in, line);) {
    const size_t at = line.find('{');
    if (line.find("alert_webhook_dropped") == std::string::npos || at == std::string::npos) continue;
    auto j = nlohmann::json::parse(line.substr(at), nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    ++lines;
    counted += j.value("count", 0);
    EXPECT_NE(j.value("reason", std::string()).find("connection refused"), std::string::npos) << line;
  }
  EXPECT_EQ(lines, 2);
  EXPECT_EQ(counted, 2);
}

TEST(AlertWebhookTest, BadUrlsAreRefusedWithoutQuotingThem) {
  for (const char* bad : {"ftp://host/x", "https://user:s3cret@host/x", "unix:/run/x.sock", "not a url"}) {
    auto hook = AlertWebhook::Create(bad);
    ASSERT_FALSE(hook.ok()) << bad;
    EXPECT_EQ(std::string(hook.status().message()).find("s3cret"), std::string::npos);
  }
}

}  // namespace
}  // namespace sigil::daemon
