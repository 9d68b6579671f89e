#include "metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace sigil::metrics {

namespace {

constexpr size_t kMaxLabelValueBytes = 64;
constexpr char kOverflowLabel[] = "other";

std::string SanitizeLabel(std::string_view v) {
  std::string out(v.substr(0, kMaxLabelValueBytes));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '_';
  }
  if (out.empty()) out = "none";
  return out;
}

// Admits at most `max` distinct values for one label of one family.
class LabelBudget {
 public:
  explicit LabelBudget(size_t max) : max_(max) {}

  std::string Admit(std::string_view raw) {
    std::string v = SanitizeLabel(raw);
    absl::MutexLock lock(&mu_);
    if (seen_.count(v)) return v;
    if (seen_.size() >= max_) return kOverflowLabel;
    seen_.insert(v);
    return v;
  }
  void Release(const std::string& v) {
    absl::MutexLock lock(&mu_);
    seen_.erase(v);
  }

 private:
  const size_t max_;
  absl::Mutex mu_;
  std::set<std::string, std::less<>> seen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

class Metrics::Impl {
 public:
  explicit Impl(Options opts)
      : registry_(std::make_shared<prometheus::Registry>()),
        requests_(prometheus::BuildCounter()
                      .Name("sigil_requests_total")
                      .Help("Signing-path requests by JSON-RPC/REST method and policy decision.")
                      .Register(*registry_)),
        sign_latency_(prometheus::BuildHistogram()
                          .Name("sigil_sign_latency_seconds")
                          .Help("Time from a signing request's arrival to its signature (durable audit included).")
                          .Register(*registry_)),
        denials_(prometheus::BuildCounter()
                     .Name("sigil_denials_total")
                     .Help("Policy denials by the rule that fired.")
                     .Register(*registry_)),
        pending_approvals_(prometheus::BuildGauge()
                               .Name("sigil_pending_approvals")
                               .Help("Requests held for human approval.")
                               .Register(*registry_)),
        audit_records_(prometheus::BuildGauge()
                           .Name("sigil_audit_records")
                           .Help("Records in the audit log.")
                           .Register(*registry_)),
        fsync_batch_(prometheus::BuildHistogram()
                         .Name("sigil_audit_fsync_batch_size")
                         .Help("Audit records made durable by one fsync.")
                         .Register(*registry_)),
        lockdown_(prometheus::BuildGauge()
                      .Name("sigil_lockdown")
                      .Help("1 while lockdown is in force, else 0.")
                      .Register(*registry_)),
        key_age_(prometheus::BuildGauge()
                     .Name("sigil_key_age_seconds")
                     .Help("Age of each key since creation or last rotation.")
                     .Register(*registry_)),
        keys_over_max_age_(prometheus::BuildGauge()
                               .Name("sigil_keys_over_max_age")
                               .Help("Keys older than the configured maximum age.")
                               .Register(*registry_)),
        auth_failures_(prometheus::BuildCounter()
                           .Name("sigil_auth_failures_total")
                           .Help("Requests refused for missing, invalid or insufficient credentials.")
                           .Register(*registry_)),
        http_requests_(prometheus::BuildCounter()
                           .Name("sigil_http_requests_total")
                           .Help("HTTP responses by status code.")
                           .Register(*registry_)),
        sign_latency_h_(sign_latency_.Add(
            {}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                        0.5, 1, 2.5, 5, 10})),
        fsync_batch_h_(fsync_batch_.Add(
            {}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})),
        pending_approvals_g_(pending_approvals_.Add({})),
        audit_records_g_(audit_records_.Add({})),
        lockdown_g_(lockdown_.Add({})),
        keys_over_max_age_g_(keys_over_max_age_.Add({})),
        auth_failures_c_(auth_failures_.Add({})),
        method_budget_(opts.max_label_values),
        decision_budget_(opts.max_label_values),
        rule_budget_(opts.max_label_values),
        key_budget_(opts.max_label_values),
        code_budget_(opts.max_label_values) {}

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& sign_latency_;
  prometheus::Family<prometheus::Counter>& denials_;
  prometheus::Family<prometheus::Gauge>& pending_approvals_;
  prometheus::Family<prometheus::Gauge>& audit_records_;
  prometheus::Family<prometheus::Histogram>& fsync_batch_;
  prometheus::Family<prometheus::Gauge>& lockdown_;
  prometheus::Family<prometheus::Gauge>& key_age_;
  prometheus::Family<prometheus::Gauge>& keys_over_max_age_;
  prometheus::Family<prometheus::Counter>& auth_failures_;
  prometheus::Family<prometheus::Counter>& http_requests_;

  prometheus::Histogram& sign_latency_h_;
  prometheus::Histogram& fsync_batch_h_;
  prometheus::Gauge& pending_approvals_g_;
  prometheus::Gauge& audit_records_g_;
  prometheus::Gauge& lockdown_g_;
  prometheus::Gauge& keys_over_max_age_g_;
  prometheus::Counter& auth_failures_c_;

  LabelBudget method_budget_, decision_budget_, rule_budget_, key_budget_, code_budget_;
  // Serializes SetKeyAge/RemoveKey so a removal cannot race a re-add.
  absl::Mutex key_mu_;
};

Metrics::Metrics() : Metrics(Options{}) {}
Metrics::Metrics(Options options) : impl_(std::make_unique<Impl>(options)) {}
Metrics::~Metrics() = default;

void Metrics::CountRequest(std::string_view method, std::string_view decision) {
  impl_->requests_
      .Add({{"method", impl_->method_budget_.Admit(method)}, {"decision", impl_->decision_budget_.Admit(decision)}})
      .Increment();
}

void Metrics::ObserveSignLatency(absl::Duration latency) {
  impl_->sign_latency_h_.Observe(absl::ToDoubleSeconds(latency));
}

void Metrics::CountDenial(std::string_view rule) {
  impl_->denials_.Add({{"rule", impl_->rule_budget_.Admit(rule)}}).Increment();
}

void Metrics::SetPendingApprovals(int64_t count) { impl_->pending_approvals_g_.Set(static_cast<double>(count)); }
void Metrics::SetAuditRecords(uint64_t count) { impl_->audit_records_g_.Set(static_cast<double>(count)); }
void Metrics::ObserveAuditFsyncBatchSize(size_t records) {
  impl_->fsync_batch_h_.Observe(static_cast<double>(records));
}
void Metrics::SetLockdown(bool on) { impl_->lockdown_g_.Set(on ? 1 : 0); }

void Metrics::SetKeyAge(std::string_view key, absl::Duration age) {
  absl::MutexLock lock(&impl_->key_mu_);
  impl_->key_age_.Add({{"key", impl_->key_budget_.Admit(key)}}).Set(absl::ToDoubleSeconds(age));
}

void Metrics::RemoveKey(std::string_view key) {
  absl::MutexLock lock(&impl_->key_mu_);
  std::string label = SanitizeLabel(key);
  prometheus::Labels labels{{"key", label}};
  if (!impl_->key_age_.Has(labels)) return;
  impl_->key_age_.Remove(&impl_->key_age_.Add(labels));
  impl_->key_budget_.Release(label);
}

void Metrics::SetKeysOverMaxAge(int64_t count) { impl_->keys_over_max_age_g_.Set(static_cast<double>(count)); }
void Metrics::CountAuthFailure() { impl_->auth_failures_c_.Increment(); }

void Metrics::CountHttpResponse(int status_code) {
  impl_->http_requests_.Add({{"code", impl_->code_budget_.Admit(std::to_string(status_code))}}).Increment();
}

std::string Metrics::SerializeText() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(impl_->registry_->Collect());
}

prometheus::Registry& Metrics::registry() { return *impl_->registry_; }

}  // namespace sigil::metrics
