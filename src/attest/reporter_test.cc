#include "attest/reporter.h"

#include <atomic>
#include <string>
#include <thread>

#include "attest/test_attestation_key.h"
#include "attest/verifier.h"
#include "base/hex.h"
#include "gtest/gtest.h"

namespace sigil::attest {
namespace {

ReporterOptions Options(const TestAttestationKey& key, const Clock* clock, bool debug = false) {
  ReporterOptions o;
  o.signer = key.Signer();
  o.attestation_public_key = key.public_key();
  o.measurement = TestHash("binary");
  o.sigil_version = "0.1.0";
  o.debug = debug;
  o.clock = clock;
  return o;
}

TEST(Reporter, BuildsASignedReportOfEveryField) {
  TestAttestationKey key(0x01);
  FakeClock clock(absl::FromUnixMillis(1767225600123));
  Reporter reporter = Reporter::Create(Options(key, &clock)).value();
  const ReportState state = SampleState();
  auto r = reporter.Build(TestNonce(0x33, 16), state);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, 1u);
  EXPECT_EQ(r->nonce, TestNonce(0x33, 16));
  EXPECT_EQ(r->time_ms, 1767225600123u);
  EXPECT_EQ(r->platform, "software");
  EXPECT_EQ(r->measurement, TestHash("binary"));
  EXPECT_EQ(r->config_hash, state.config_hash);
  EXPECT_EQ(r->policy_hash, state.policy_hash);
  EXPECT_EQ(r->audit, state.audit);
  EXPECT_EQ(r->audit_public_key, state.audit_public_key);
  EXPECT_EQ(r->attestation_public_key, key.public_key());
  EXPECT_EQ(r->security_version, kSecurityVersion);
  EXPECT_EQ(r->sigil_version, "0.1.0");
  EXPECT_FALSE(r->debug);
  EXPECT_FALSE(r->tpm_quote.has_value());
  // Keys sorted by name.
  ASSERT_EQ(r->keys.size(), 3u);
  EXPECT_EQ(r->keys[0].name, "nostr-bot");
  EXPECT_EQ(r->keys[1].name, "solana-ops");
  EXPECT_EQ(r->keys[2].name, "treasury");
  EXPECT_TRUE(VerifyReportSignature(*r, key.public_key()));
}

TEST(Reporter, DevModeSetsDebug) {
  TestAttestationKey key(0x01);
  FakeClock clock;
  Reporter reporter = Reporter::Create(Options(key, &clock, /*debug=*/true)).value();
  auto r = reporter.Build(TestNonce(), SampleState());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->debug);
}

TEST(Reporter, NonceMustBe16To64Bytes) {
  TestAttestationKey key(0x01);
  FakeClock clock;
  Reporter reporter = Reporter::Create(Options(key, &clock)).value();
  for (size_t size : {0u, 1u, 15u, 65u, 200u}) {
    auto r = reporter.Build(TestNonce(0x01, size), SampleState());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << size;
  }
  for (size_t size : {16u, 32u, 64u}) {
    EXPECT_TRUE(reporter.Build(TestNonce(0x01, size), SampleState()).ok()) << size;
  }
}

TEST(Reporter, RefusesKeysTheFormatCannotCarry) {
  TestAttestationKey key(0x01);
  FakeClock clock;
  Reporter reporter = Reporter::Create(Options(key, &clock)).value();
  ReportState state = SampleState();
  state.keys[0].public_key.pop_back();
  EXPECT_EQ(reporter.Build(TestNonce(), state).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Reporter, PropagatesSignerErrors) {
  TestAttestationKey key(0x01);
  FakeClock clock;
  ReporterOptions o = Options(key, &clock);
  int calls = 0;
  o.signer = [&calls](std::span<const uint8_t>) -> absl::StatusOr<crypto::Ed25519Signature> {
    ++calls;
    return absl::FailedPreconditionError("lockdown in force");
  };
  Reporter reporter = Reporter::Create(std::move(o)).value();
  auto r = reporter.Build(TestNonce(), SampleState());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(calls, 1);
}

TEST(Reporter, RefusesASignatureByAnotherKey) {
  TestAttestationKey key(0x01);
  TestAttestationKey other(0x02);
  FakeClock clock;
  ReporterOptions o = Options(key, &clock);
  o.signer = other.Signer();  // e.g. the keystore lent the wrong key
  Reporter reporter = Reporter::Create(std::move(o)).value();
  EXPECT_EQ(reporter.Build(TestNonce(), SampleState()).status().code(), absl::StatusCode::kInternal);
}

TEST(Reporter, SignerSeesExactlyTheCanonicalBytes) {
  TestAttestationKey key(0x01);
  FakeClock clock;
  ReporterOptions o = Options(key, &clock);
  std::string seen;
  ReportSigner inner = key.Signer();
  o.signer = [&seen, inner](std::span<const uint8_t> m) {
    seen.assign(m.begin(), m.end());
    return inner(m);
  };
  Reporter reporter = Reporter::Create(std::move(o)).value();
  auto r = reporter.Build(TestNonce(), SampleState());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(seen, CanonicalReportBytes(*r));
}

TEST(Reporter, CreateValidatesOptions) {
  TestAttestationKey key(0x01);
  FakeClock clock;
  ReporterOptions no_signer = Options(key, &clock);
  no_signer.signer = nullptr;
  EXPECT_EQ(Reporter::Create(std::move(no_signer)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Reporter::Create(Options(key, nullptr)).status().code(), absl::StatusCode::kInvalidArgument);
  for (const char* v : {"", "0.1 beta", "v\n1"}) {
    ReporterOptions o = Options(key, &clock);
    o.sigil_version = v;
    EXPECT_EQ(Reporter::Create(std::move(o)).status().code(), absl::StatusCode::kInvalidArgument) << v;
  }
}

TEST(Reporter, ConcurrentBuildsAreIndependent) {
  TestAttestationKey key(0x01);
  FakeClock clock;
  const Reporter reporter = Reporter::Create(Options(key, &clock)).value();
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const auto nonce = TestNonce(static_cast<uint8_t>(t * 32 + i));
        auto r = reporter.Build(nonce, SampleState());
        if (r.ok() && Verify(SerializeReport(*r), VerifyOptions{nonce, {}, false, 0, key.public_key(), {}, {}}).valid) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 100);
}

}  // namespace
}  // namespace sigil::attest
