#include "daemon/alert_webhook.h"

#include <algorithm>
#include <utility>

#include "base/status.h"
#include "net/http_client.h"
#include "net/http_url.h"
#include "spdlog/spdlog.h"

namespace sigil::daemon {

namespace {

net::HttpClientOptions ClientOptions(absl::Duration timeout) {
  net::HttpClientOptions o;
  o.timeout = timeout;
  o.connect_timeout = timeout;
  o.max_response_body_bytes = 64 * 1024;
  o.keep_alive = false;
  o.service_name = "alert webhook";
  return o;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AlertWebhook>> AlertWebhook::Create(const std::string& url, AlertWebhookOptions options) {
  absl::StatusOr<net::HttpUrl> parsed = net::ParseHttpUrl(url);
  if (!parsed.ok()) return absl::InvalidArgumentError("webhook alert_url: " + std::string(parsed.status().message()));
  if (parsed->scheme == net::HttpUrl::Scheme::kUnix) {
    return absl::InvalidArgumentError("webhook alert_url must be http:// or https://, not " + parsed->Origin());
  }
  // Checked once here (e.g. an https URL whose TLS setup fails); each
  // attempt builds its own client with the time it may take.
  RETURN_IF_ERROR(net::HttpClient::Create(url, ClientOptions(options.timeout)).status());
  return std::unique_ptr<AlertWebhook>(new AlertWebhook(url, parsed->Origin(), options));
}

AlertWebhook::AlertWebhook(std::string url, std::string origin, AlertWebhookOptions options)
    : url_(std::move(url)), origin_(std::move(origin)), options_(options) {
  thread_ = std::thread([this] { Run(); });
}

AlertWebhook::~AlertWebhook() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    stop_deadline_ = absl::Now() + options_.shutdown_grace;
  }
  thread_.join();
  absl::MutexLock lock(&mu_);
  LogDrops(/*now_anyway=*/true);
}

void AlertWebhook::Notify(const std::string& kind, const nlohmann::json& details) {
  nlohmann::json alert = {{"event", "sigil.alert"},
                          {"kind", kind},
                          {"at", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone())},
                          {"details", details}};
  std::string body = alert.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  absl::MutexLock lock(&mu_);
  if (stopping_ || queue_.size() >= options_.max_queued) {
    Drop(1, stopping_ ? "shutting down" : "queue full");
    return;
  }
  queue_.push_back(std::move(body));
}

// A trigger can fire on every request (risk_score): with a dead receiver,
// one log line per dropped alert would flood the log. One line per 10 s
// says how many were dropped since the last; drops still unlogged are
// logged when the window ends (Run wakes for it) and at destruction.
void AlertWebhook::Drop(uint64_t count, std::string_view reason) {
  dropped_ += count;
  unlogged_drops_ += count;
  last_drop_reason_ = std::string(reason);
  LogDrops(/*now_anyway=*/false);
}

void AlertWebhook::LogDrops(bool now_anyway) {
  const absl::Time now = absl::Now();
  if (unlogged_drops_ == 0 || (!now_anyway && now - last_drop_log_ < kDropLogInterval)) return;
  spdlog::error(nlohmann::json{{"event", "alert_webhook_dropped"}, {"to", origin_}, {"count", unlogged_drops_},
                               {"reason", last_drop_reason_}}
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  unlogged_drops_ = 0;
  last_drop_log_ = now;
}

uint64_t AlertWebhook::delivered() const {
  absl::MutexLock lock(&mu_);
  return delivered_;
}

uint64_t AlertWebhook::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

void AlertWebhook::Run() {
  for (;;) {
    std::string body;
    {
      absl::MutexLock lock(&mu_);
      const absl::Condition work(
          +[](AlertWebhook* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) { return self->stopping_ || !self->queue_.empty(); },
          this);
      // Idle, it still wakes once per window to log drops not yet logged.
      while (!mu_.AwaitWithTimeout(work, kDropLogInterval)) LogDrops(/*now_anyway=*/false);
      if (queue_.empty()) return;  // stopping, nothing left
      body = std::move(queue_.front());
      queue_.pop_front();
    }
    const std::optional<std::string> failure = Deliver(body);
    absl::MutexLock lock(&mu_);
    if (!failure) {
      ++delivered_;
    } else {
      Drop(1, *failure);
    }
  }
}

// How long the next attempt may take: the configured timeout, or while
// the daemon stops, what is left of shutdown_grace (zero: no attempt).
absl::Duration AlertWebhook::AttemptTime() {
  absl::MutexLock lock(&mu_);
  if (!stopping_) return options_.timeout;
  return std::max(absl::ZeroDuration(), std::min(options_.timeout, stop_deadline_ - absl::Now()));
}

// Attempts with waits of first_retry, 4x that, ...; a stop ends the waiting,
// and every attempt then fits within what is left of shutdown_grace.
// nullopt when delivered, else why the last attempt failed.
std::optional<std::string> AlertWebhook::Deliver(const std::string& body) {
  absl::Duration wait = options_.first_retry;
  std::string last_error = "no time left before shutdown";
  for (int attempt = 1; attempt <= std::max(1, options_.attempts); ++attempt) {
    const absl::Duration budget = AttemptTime();
    if (budget <= absl::ZeroDuration()) break;
    absl::StatusOr<std::unique_ptr<net::HttpClient>> client = net::HttpClient::Create(url_, ClientOptions(budget));
    if (!client.ok()) {
      last_error = std::string(client.status().message());
      break;
    }
    absl::StatusOr<net::HttpClientResponse> r = (*client)->Post("", body);
    if (r.ok() && r->status >= 200 && r->status < 300) return std::nullopt;
    last_error = r.ok() ? "HTTP " + std::to_string(r->status) : std::string(r.status().message());
    if (attempt == options_.attempts) break;
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait);
    wait *= 4;
  }
  return "not delivered: " + last_error;
}

}  // namespace sigil::daemon
