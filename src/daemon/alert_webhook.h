// AlertWebhook: delivers the daemon's alerts (policy trigger actions:
// `alert`, `suspend_agent`, `lockdown`) to `[webhook] alert_url` as JSON
// POSTs, so monitoring hears of them without scraping logs.
//
// Each alert is one POST of
//   {"event": "sigil.alert", "kind": KIND, "at": RFC 3339 UTC, "details": {...}}
// with Content-Type application/json. A 2xx answer is delivery; any other
// answer, or no answer, is retried after 1 s and 4 s (3 attempts), then
// dropped; an error line on the daemon's log says so, at most once per 10 s
// (with the count since the last line and the latest reason).
//
// Delivery never holds up the caller: Notify() queues and returns. One
// background thread sends, in order. The queue holds at most
// `max_queued` alerts; beyond that new alerts are dropped (and counted),
// so a dead receiver cannot make the daemon grow. When the notifier is
// destroyed, retry waits end, an attempt under way runs to its answer or
// its timeout, and the alerts still queued are tried within what is left of
// `shutdown_grace` (each attempt's timeout is cut to it); the rest are
// dropped. Destruction thus waits at most timeout + shutdown_grace. (A DNS
// lookup that hangs is not cut short by net::HttpClient; an IP address or a
// responsive resolver is assumed.)
//
// Security: alerts hold names, rules and reasons, never key material. The
// URL may hold a secret in its path (many webhook receivers work that way):
// log lines and errors name only its origin (net::HttpUrl::Origin()).
// Answers are read up to 64 KiB and discarded.
//
// Thread-safety: Notify() may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace sigil::daemon {

struct AlertWebhookOptions {
  size_t max_queued = 256;
  int attempts = 3;
  absl::Duration first_retry = absl::Seconds(1);  // then 4x the last wait
  absl::Duration timeout = absl::Seconds(4);      // per attempt
  absl::Duration shutdown_grace = absl::Seconds(4);
};

class AlertWebhook {
 public:
  // InvalidArgument for a URL that does not parse (quoted only as
  // net::RedactedUrl() shows it) or that is not http(s)://.
  static absl::StatusOr<std::unique_ptr<AlertWebhook>> Create(const std::string& url, AlertWebhookOptions options = {});
  ~AlertWebhook();
  AlertWebhook(const AlertWebhook&) = delete;
  AlertWebhook& operator=(const AlertWebhook&) = delete;

  void Notify(const std::string& kind, const nlohmann::json& details);

  uint64_t delivered() const;
  uint64_t dropped() const;  // queue full, or every attempt failed

 private:
  AlertWebhook(std::string url, std::string origin, AlertWebhookOptions options);
  void Run();
  std::optional<std::string> Deliver(const std::string& body);
  absl::Duration AttemptTime();
  // Counts `count` dropped alerts; logs at most once per 10 s (the count
  // since the last line and the latest reason).
  void Drop(uint64_t count, std::string_view reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Logs the drops not yet logged, if the last line is kDropLogInterval old
  // (or `now_anyway`).
  void LogDrops(bool now_anyway) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static constexpr absl::Duration kDropLogInterval = absl::Seconds(10);

  const std::string url_;     // may hold a secret: never logged
  const std::string origin_;  // what logs name
  const AlertWebhookOptions options_;
  mutable absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time stop_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  uint64_t unlogged_drops_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_drop_log_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::string last_drop_reason_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace sigil::daemon
