#include "metrics/metrics.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sigil::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, EveryNamedFamilyIsExposedWithItsValues) {
  Metrics m;
  m.CountRequest("eth_signTransaction", "allow");
  m.CountRequest("eth_signTransaction", "allow");
  m.CountRequest("personal_sign", "deny");
  m.ObserveSignLatency(absl::Milliseconds(3));
  m.CountDenial("no-blocked");
  m.SetPendingApprovals(4);
  m.SetAuditRecords(1042);
  m.ObserveAuditFsyncBatchSize(3);
  m.SetLockdown(true);
  m.SetKeyAge("trader", absl::Hours(2));
  m.SetKeysOverMaxAge(1);
  m.CountAuthFailure();
  m.CountAuthFailure();
  m.CountHttpResponse(200);
  m.CountHttpResponse(503);
  m.CountHttpResponse(200);

  std::string text = m.SerializeText();
  EXPECT_THAT(text, HasSubstr("# TYPE sigil_requests_total counter"));
  EXPECT_THAT(text, HasSubstr("sigil_requests_total{decision=\"allow\",method=\"eth_signTransaction\"} 2"));
  EXPECT_THAT(text, HasSubstr("sigil_requests_total{decision=\"deny\",method=\"personal_sign\"} 1"));
  EXPECT_THAT(text, HasSubstr("# TYPE sigil_sign_latency_seconds histogram"));
  EXPECT_THAT(text, HasSubstr("sigil_sign_latency_seconds_count 1"));
  EXPECT_THAT(text, HasSubstr("sigil_sign_latency_seconds_bucket{le=\"0.0025\"} 0"));
  EXPECT_THAT(text, HasSubstr("sigil_sign_latency_seconds_bucket{le=\"0.005\"} 1"));
  EXPECT_THAT(text, HasSubstr("sigil_denials_total{rule=\"no-blocked\"} 1"));
  EXPECT_THAT(text, HasSubstr("sigil_pending_approvals 4"));
  EXPECT_THAT(text, HasSubstr("sigil_audit_records 1042"));
  EXPECT_THAT(text, HasSubstr("sigil_audit_fsync_batch_size_count 1"));
  EXPECT_THAT(text, HasSubstr("sigil_audit_fsync_batch_size_sum 3"));
  EXPECT_THAT(text, HasSubstr("sigil_audit_fsync_batch_size_bucket{le=\"4\"} 1"));
  EXPECT_THAT(text, HasSubstr("sigil_lockdown 1"));
  EXPECT_THAT(text, HasSubstr("sigil_key_age_seconds{key=\"trader\"} 7200"));
  EXPECT_THAT(text, HasSubstr("sigil_keys_over_max_age 1"));
  EXPECT_THAT(text, HasSubstr("sigil_auth_failures_total 2"));
  EXPECT_THAT(text, HasSubstr("sigil_http_requests_total{code=\"200\"} 2"));
  EXPECT_THAT(text, HasSubstr("sigil_http_requests_total{code=\"503\"} 1"));

  m.SetLockdown(false);
  m.RemoveKey("trader");
  text = m.SerializeText();
  EXPECT_THAT(text, HasSubstr("sigil_lockdown 0"));
  EXPECT_THAT(text, Not(HasSubstr("key=\"trader\"")));
}

TEST(MetricsTest, UnlabelledFamiliesAppearBeforeAnyUpdate) {
  Metrics m;
  std::string text = m.SerializeText();
  for (const char* family : {"sigil_pending_approvals 0", "sigil_audit_records 0", "sigil_lockdown 0",
                             "sigil_keys_over_max_age 0", "sigil_auth_failures_total 0",
                             "sigil_sign_latency_seconds_count 0", "sigil_audit_fsync_batch_size_count 0"}) {
    EXPECT_THAT(text, HasSubstr(family));
  }
}

TEST(MetricsTest, LabelCardinalityIsBoundedAndValuesSanitized) {
  Metrics m(Metrics::Options{.max_label_values = 3});
  for (int i = 0; i < 100; ++i) m.CountRequest("m" + std::to_string(i), "allow");
  m.CountRequest("m0", "allow");
  m.CountRequest("evil\"\n{x=\"1\"}\x01\xff", "deny");
  m.CountRequest(std::string(500, 'a'), "deny");
  std::string text = m.SerializeText();
  EXPECT_THAT(text, HasSubstr("sigil_requests_total{decision=\"allow\",method=\"m0\"} 2"));
  EXPECT_THAT(text, HasSubstr("sigil_requests_total{decision=\"allow\",method=\"m2\"} 1"));
  EXPECT_THAT(text, Not(HasSubstr("method=\"m3\"")));
  EXPECT_THAT(text, HasSubstr("sigil_requests_total{decision=\"allow\",method=\"other\"} 97"));
  EXPECT_THAT(text, HasSubstr("sigil_requests_total{decision=\"deny\",method=\"other\"} 2"));
  EXPECT_THAT(text, Not(HasSubstr("\x01")));
  EXPECT_THAT(text, Not(HasSubstr("\xff")));

  // A removed key frees its slot.
  Metrics k(Metrics::Options{.max_label_values = 1});
  k.SetKeyAge("a", absl::Seconds(1));
  k.SetKeyAge("b", absl::Seconds(2));
  EXPECT_THAT(k.SerializeText(), HasSubstr("sigil_key_age_seconds{key=\"other\"} 2"));
  k.RemoveKey("a");
  k.SetKeyAge("c", absl::Seconds(3));
  EXPECT_THAT(k.SerializeText(), HasSubstr("sigil_key_age_seconds{key=\"c\"} 3"));

  // Sanitizing keeps the exposition one sample per line.
  Metrics s;
  s.CountDenial("rule\nsigil_lockdown 1");
  std::string st = s.SerializeText();
  EXPECT_THAT(st, HasSubstr("sigil_denials_total{rule=\"rule_sigil_lockdown 1\"} 1"));
  EXPECT_THAT(st, HasSubstr("sigil_lockdown 0"));
}

TEST(MetricsTest, ConcurrentUpdatesAreAllCounted) {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < 1000; ++i) {
        m.CountRequest(t % 2 ? "eth_sign" : "personal_sign", "allow");
        m.CountHttpResponse(200);
        m.ObserveSignLatency(absl::Microseconds(100));
        if (i % 100 == 0) (void)m.SerializeText();
      }
    });
  }
  for (auto& th : threads) th.join();
  std::string text = m.SerializeText();
  EXPECT_THAT(text, HasSubstr("sigil_requests_total{decision=\"allow\",method=\"eth_sign\"} 4000"));
  EXPECT_THAT(text, HasSubstr("sigil_requests_total{decision=\"allow\",method=\"personal_sign\"} 4000"));
  EXPECT_THAT(text, HasSubstr("sigil_http_requests_total{code=\"200\"} 8000"));
  EXPECT_THAT(text, HasSubstr("sigil_sign_latency_seconds_count 8000"));
}

}  // namespace
}  // namespace sigil::metrics
