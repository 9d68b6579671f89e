#include "daemon/alert_webhook.h"

#include <utility>

#include "base/status.h"
#include "spdlog/spdlog.h"

namespace sigil::daemon {

absl::StatusOr<std::unique_ptr<AlertWebhook>> AlertWebhook::Create(const std::string& url, AlertWebhookOptions options) {
  absl::StatusOr<net::HttpUrl> parsed = net::ParseHttpUrl(url);
  if (!parsed.ok()) return absl::InvalidArgumentError("webhook alert_url: " + std::string(parsed.status().message()));
  if (parsed->scheme == net::HttpUrl::Scheme::kUnix) {
    return absl::InvalidArgumentError("webhook alert_url must be http:// or https://, not " + parsed->Origin());
  }
  net::HttpClientOptions client_options;
  client_options.timeout = options.timeout;
  client_options.connect_timeout = options.timeout;
  client_options.max_response_body_bytes = 64 * 1024;
  client_options.keep_alive = false;
  client_options.service_name = "alert webhook";
  ASSIGN_OR_RETURN(auto client, net::HttpClient::Create(url, client_options));
  return std::unique_ptr<AlertWebhook>(new AlertWebhook(std::move(client), options));
}

AlertWebhook::AlertWebhook(std::unique_ptr<net::HttpClient> client, AlertWebhookOptions options)
    : client_(std::move(client)), options_(options) {
  thread_ = std::thread([this] { Run(); });
}

AlertWebhook::~AlertWebhook() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    stop_deadline_ = absl::Now() + options_.shutdown_grace;
  }
  thread_.join();
}

void AlertWebhook::Notify(const std::string& kind, const nlohmann::json& details) {
  nlohmann::json alert = {{"event", "sigil.alert"},
                          {"kind", kind},
                          {"at", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone())},
                          {"details", details}};
  std::string body = alert.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  absl::MutexLock lock(&mu_);
  if (stopping_ || queue_.size() >= options_.max_queued) {
    ++dropped_;
    spdlog::error(nlohmann::json{{"event", "alert_webhook_dropped"}, {"to", client_->url().Origin()}, {"kind", kind},
                                 {"reason", stopping_ ? "shutting down" : "queue full"}}
                      .dump());
    return;
  }
  queue_.push_back(std::move(body));
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
    bool stopping = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](AlertWebhook* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) { return self->stopping_ || !self->queue_.empty(); },
          this));
      if (queue_.empty()) return;  // stopping, nothing left
      if (stopping_ && absl::Now() >= stop_deadline_) {
        dropped_ += queue_.size();
        spdlog::error(nlohmann::json{{"event", "alert_webhook_dropped"}, {"to", client_->url().Origin()},
                                     {"count", queue_.size()}, {"reason", "shutting down"}}
                          .dump());
        queue_.clear();
        return;
      }
      body = std::move(queue_.front());
      queue_.pop_front();
      stopping = stopping_;
    }
    const bool ok = Deliver(body, stopping);
    absl::MutexLock lock(&mu_);
    (ok ? delivered_ : dropped_)++;
  }
}

// Attempts with waits of first_retry, 4x that, ...; while the daemon stops,
// one attempt more and no waiting.
bool AlertWebhook::Deliver(const std::string& body, bool last_chance) {
  absl::Duration wait = options_.first_retry;
  int attempts = last_chance ? 1 : std::max(1, options_.attempts);
  std::string last_error;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<net::HttpClientResponse> r = client_->Post("", body);
    if (r.ok() && r->status >= 200 && r->status < 300) return true;
    last_error = r.ok() ? "HTTP " + std::to_string(r->status) : std::string(r.status().message());
    if (attempt >= attempts) break;
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait)) attempts = attempt + 1;
    wait *= 4;
  }
  spdlog::error(nlohmann::json{{"event", "alert_webhook_failed"}, {"to", client_->url().Origin()}, {"error", last_error}}
                    .dump());
  return false;
}

}  // namespace sigil::daemon
