// Metrics: the daemon's Prometheus metrics, over a prometheus-cpp Registry,
// serialized to the text exposition format so the daemon serves /metrics on
// its own HTTP server (no separate exporter port).
//
// Families (names are part of the external contract; do not rename):
//   sigil_requests_total{method,decision}   counter   signing-path requests by outcome
//   sigil_sign_latency_seconds              histogram request-to-signature time
//   sigil_denials_total{rule}               counter   policy denials by rule id
//   sigil_pending_approvals                 gauge
//   sigil_audit_records                     gauge     records in the audit log
//   sigil_audit_fsync_batch_size            histogram records made durable per fsync
//   sigil_lockdown                          gauge     1 while lockdown is in force
//   sigil_key_age_seconds{key}              gauge     per key, since creation/rotation
//   sigil_keys_over_max_age                 gauge
//   sigil_auth_failures_total               counter
//   sigil_http_requests_total{code}         counter   HTTP responses by status code
//
// Security: label values often come from requests (a JSON-RPC method name, a
// rule id). Each labelled family admits at most `max_label_values` distinct
// values; later ones are counted under "other", so a client cannot grow
// memory or the scrape without bound. Values are cut to 64 bytes and bytes
// outside printable ASCII become '_'. Never pass secret material as a label.
//
// Thread-safety: every method may be called concurrently from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace sigil::metrics {

class Metrics {
 public:
  struct Options {
    size_t max_label_values = 256;  // per labelled family
  };

  // Content-Type for the /metrics response.
  static constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

  Metrics();
  explicit Metrics(Options options);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // decision: e.g. "allow", "deny", "require_approval", "error".
  void CountRequest(std::string_view method, std::string_view decision);
  void ObserveSignLatency(absl::Duration latency);
  void CountDenial(std::string_view rule);
  void SetPendingApprovals(int64_t count);
  void SetAuditRecords(uint64_t count);
  void ObserveAuditFsyncBatchSize(size_t records);
  void SetLockdown(bool on);
  void SetKeyAge(std::string_view key, absl::Duration age);
  // Drops the key's series (key deleted) and frees its label slot.
  void RemoveKey(std::string_view key);
  void SetKeysOverMaxAge(int64_t count);
  void CountAuthFailure();
  void CountHttpResponse(int status_code);

  // The whole registry in the Prometheus text format (version 0.0.4).
  std::string SerializeText() const;

  // For families beyond the named ones. The registry is thread-safe; label
  // bounding is then the caller's job.
  prometheus::Registry& registry();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sigil::metrics
