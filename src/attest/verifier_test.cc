#include "attest/verifier.h"

#include <functional>
#include <string>

#include "attest/test_attestation_key.h"
#include "base/hex.h"
#include "gtest/gtest.h"

namespace sigil::attest {
namespace {

using nlohmann::json;

class VerifierTest : public ::testing::Test {
 protected:
  AttestationReport Make(bool debug = false) {
    Reporter reporter =
        Reporter::Create({key_.Signer(), key_.public_key(), TestHash("binary"), "0.1.0", debug, &clock_, {}}).value();
    return reporter.Build(nonce_, SampleState()).value();
  }
  VerifyOptions Pinned() const {
    VerifyOptions o;
    o.nonce = nonce_;
    o.expected_measurement = TestHash("binary");
    o.min_security_version = kSecurityVersion;
    o.expected_pubkey = key_.public_key();
    return o;
  }

  TestAttestationKey key_{0x01};
  FakeClock clock_;
  std::vector<uint8_t> nonce_ = TestNonce(0x5a, 32);
};

TEST_F(VerifierTest, GoodReportVerifies) {
  const std::string text = SerializeReport(Make());
  VerifyResult r = Verify(text, Pinned());
  EXPECT_TRUE(r.valid);
  EXPECT_TRUE(r.errors.empty()) << r.ToJson().dump();
  EXPECT_TRUE(r.key_pinned);
  ASSERT_TRUE(r.report.has_value());
  // Unpinned, with no other expectations: still valid (self-consistent and fresh).
  VerifyOptions minimal;
  minimal.nonce = nonce_;
  VerifyResult u = Verify(text, minimal);
  EXPECT_TRUE(u.valid) << u.ToJson().dump();
  EXPECT_FALSE(u.key_pinned);
}

TEST_F(VerifierTest, ResultJsonCarriesTheReportFields) {
  const AttestationReport report = Make();
  const json j = Verify(SerializeReport(report), Pinned()).ToJson();
  EXPECT_EQ(j["valid"], true);
  EXPECT_TRUE(j["errors"].is_array() && j["errors"].empty());
  EXPECT_EQ(j["platform"], "software");
  EXPECT_EQ(j["security_version"], kSecurityVersion);
  EXPECT_EQ(j["measurement"], HexEncode(TestHash("binary")));
  EXPECT_EQ(j["debug"], false);
  EXPECT_EQ(j["nonce"], HexEncode(nonce_));
  EXPECT_EQ(j["attestation_public_key"], HexEncode(key_.public_key()));
  EXPECT_EQ(j["keys"].size(), 3u);
  EXPECT_EQ(j["audit"]["size"], 42u);
  EXPECT_EQ(j["key_pinned"], true);
  EXPECT_FALSE(j.contains("signature"));

  const json bad = Verify("not json", Pinned()).ToJson();
  EXPECT_EQ(bad["valid"], false);
  EXPECT_EQ(bad["errors"][0]["code"], "malformed");
  EXPECT_FALSE(bad["errors"][0]["message"].get<std::string>().empty());
  EXPECT_FALSE(bad.contains("platform"));
}

// Each field of a signed report changed on its own, to a value that still
// parses: the signature no longer covers it.
TEST_F(VerifierTest, EveryAlteredFieldBreaksTheSignature) {
  const json good = Make().ToJson();
  struct Mutation {
    const char* field;
    std::function<void(json&)> change;
    std::vector<std::string> also;  // the specific errors the change also causes
  };
  auto flip_hex = [](json& v) {
    std::string s = v.get<std::string>();
    s[0] = s[0] == '0' ? '1' : '0';
    v = s;
  };
  const std::vector<Mutation> mutations = {
      {"attestation_public_key", [&](json& j) { j["attestation_public_key"] = HexEncode(TestAttestationKey(0x09).public_key()); }, {"key_mismatch"}},
      {"audit.root", [&](json& j) { flip_hex(j["audit"]["root"]); }, {}},
      {"audit.size", [](json& j) { j["audit"]["size"] = 43; }, {}},
      {"audit_public_key", [&](json& j) { flip_hex(j["audit_public_key"]); }, {}},
      {"config_hash", [&](json& j) { flip_hex(j["config_hash"]); }, {}},
      {"debug", [](json& j) { j["debug"] = true; }, {"debug_not_allowed"}},
      {"keys[0].name", [](json& j) { j["keys"][0]["name"] = "other"; }, {}},
      {"keys[0].type", [](json& j) { j["keys"][0]["type"] = "ed25519"; }, {}},
      {"keys[0].public_key", [&](json& j) { flip_hex(j["keys"][0]["public_key"]); }, {}},
      {"keys[2].address", [](json& j) { j["keys"][2]["address"] = "0x0000000000000000000000000000000000000000"; }, {}},
      {"keys (removed)", [](json& j) { j["keys"].erase(j["keys"].begin()); }, {}},
      {"keys (added)", [](json& j) { j["keys"].push_back(j["keys"][0]); }, {}},
      {"keys (reordered)", [](json& j) { std::swap(j["keys"][0], j["keys"][1]); }, {}},
      {"measurement", [&](json& j) { flip_hex(j["measurement"]); }, {"measurement_mismatch"}},
      {"nonce", [&](json& j) { flip_hex(j["nonce"]); }, {"nonce_mismatch"}},
      {"platform", [](json& j) {
         j["platform"] = "tpm2";
         j["tpm_quote"] = {{"ak_public", "01"}, {"attest", "02"}, {"pcrs", {16}}, {"signature", "03"},
                           {"pcr_values", {std::string(64, '0')}}, {"measured_pcr", 16}};
       }, {"tpm_quote_invalid"}},
      {"policy_hash", [&](json& j) { flip_hex(j["policy_hash"]); }, {}},
      {"security_version", [](json& j) { j["security_version"] = kSecurityVersion + 1; }, {}},
      {"sigil_version", [](json& j) { j["sigil_version"] = "9.9.9"; }, {}},
      {"time", [](json& j) { j["time"] = j["time"].get<uint64_t>() + 1; }, {}},
      {"signature", [&](json& j) { flip_hex(j["signature"]); }, {}},
  };
  for (const Mutation& m : mutations) {
    json j = good;
    m.change(j);
    VerifyResult r = Verify(j.dump(), Pinned());
    EXPECT_FALSE(r.valid) << m.field;
    std::vector<std::string> expected = m.also;
    expected.push_back("bad_signature");
    std::sort(expected.begin(), expected.end());
    std::vector<std::string> codes = ErrorCodes(r);
    std::sort(codes.begin(), codes.end());
    EXPECT_EQ(codes, expected) << m.field << ": " << r.ToJson().dump();
  }
}

// No single-byte change anywhere in the text yields a valid report.
TEST_F(VerifierTest, NoSingleByteChangeVerifies) {
  const std::string text = Make().ToJson().dump();
  for (size_t i = 0; i < text.size(); ++i) {
    for (char delta : {1, 32}) {
      std::string t = text;
      t[i] = static_cast<char>(t[i] ^ delta);
      EXPECT_FALSE(Verify(t, Pinned()).valid) << "offset " << i << ": " << t;
    }
  }
}

TEST_F(VerifierTest, ReplayedReportIsANonceMismatch) {
  const std::string text = SerializeReport(Make());
  VerifyOptions o = Pinned();
  o.nonce = TestNonce(0x5b, 32);
  VerifyResult r = Verify(text, o);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(ErrorCodes(r), std::vector<std::string>{"nonce_mismatch"});
  o.nonce = TestNonce(0x5a, 31);  // a prefix of the real nonce
  EXPECT_EQ(ErrorCodes(Verify(text, o)), std::vector<std::string>{"nonce_mismatch"});
  o.nonce.clear();
  EXPECT_EQ(ErrorCodes(Verify(text, o)), std::vector<std::string>{"nonce_mismatch"});
}

TEST_F(VerifierTest, ReportResignedByAnotherKeyIsAKeyMismatch) {
  // A whole, self-consistent report from an impostor's key.
  TestAttestationKey impostor(0x66);
  Reporter other =
      Reporter::Create({impostor.Signer(), impostor.public_key(), TestHash("binary"), "0.1.0", false, &clock_, {}}).value();
  const std::string text = SerializeReport(other.Build(nonce_, SampleState()).value());
  VerifyResult r = Verify(text, Pinned());
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(ErrorCodes(r), std::vector<std::string>{"key_mismatch"});
  // The same report naming the genuine key but signed by the impostor.
  AttestationReport forged = other.Build(nonce_, SampleState()).value();
  forged.attestation_public_key = key_.public_key();
  impostor.Sign(forged);
  EXPECT_EQ(ErrorCodes(Verify(SerializeReport(forged), Pinned())), std::vector<std::string>{"bad_signature"});
  // Unpinned, the forged one is still caught: it does not verify under the key it names.
  VerifyOptions unpinned = Pinned();
  unpinned.expected_pubkey.reset();
  EXPECT_EQ(ErrorCodes(Verify(SerializeReport(forged), unpinned)), std::vector<std::string>{"bad_signature"});
  // And the honest impostor report passes unpinned: the result says so.
  VerifyResult u = Verify(text, unpinned);
  EXPECT_TRUE(u.valid);
  EXPECT_FALSE(u.key_pinned);
}

TEST_F(VerifierTest, DebugReportNeedsAllowDebug) {
  const std::string text = SerializeReport(Make(/*debug=*/true));
  EXPECT_EQ(ErrorCodes(Verify(text, Pinned())), std::vector<std::string>{"debug_not_allowed"});
  VerifyOptions o = Pinned();
  o.allow_debug = true;
  EXPECT_TRUE(Verify(text, o).valid);
}

TEST_F(VerifierTest, MeasurementMismatch) {
  const std::string text = SerializeReport(Make());
  VerifyOptions o = Pinned();
  o.expected_measurement = TestHash("another binary");
  VerifyResult r = Verify(text, o);
  EXPECT_EQ(ErrorCodes(r), std::vector<std::string>{"measurement_mismatch"});
  EXPECT_NE(r.errors[0].message.find(HexEncode(TestHash("binary"))), std::string::npos);
}

TEST_F(VerifierTest, SecurityVersionBelowMinimum) {
  const std::string text = SerializeReport(Make());
  VerifyOptions o = Pinned();
  o.min_security_version = kSecurityVersion + 1;
  EXPECT_EQ(ErrorCodes(Verify(text, o)), std::vector<std::string>{"security_version_too_low"});
  o.min_security_version = 0;
  EXPECT_TRUE(Verify(text, o).valid);
}

TEST_F(VerifierTest, SeveralProblemsAreAllReported) {
  const std::string text = SerializeReport(Make(/*debug=*/true));
  VerifyOptions o = Pinned();
  o.nonce = TestNonce(0x00, 32);
  o.expected_measurement = TestHash("x");
  o.min_security_version = 1000;
  o.expected_pubkey = TestAttestationKey(0x02).public_key();
  std::vector<std::string> codes = ErrorCodes(Verify(text, o));
  std::sort(codes.begin(), codes.end());
  EXPECT_EQ(codes, (std::vector<std::string>{"debug_not_allowed", "key_mismatch", "measurement_mismatch",
                                             "nonce_mismatch", "security_version_too_low"}));
}

TEST_F(VerifierTest, MalformedInputIsMalformed) {
  json j = Make().ToJson();
  json unknown = j;
  unknown["comment"] = "hello";
  json missing = j;
  missing.erase("measurement");
  const std::vector<std::string> inputs = {
      "", "{}", "[]", "null", "{\"version\":1}", unknown.dump(), missing.dump(),
      std::string(kMaxReportBytes + 1, ' '),
      std::string(100000, '{'),
      j.dump().substr(0, j.dump().size() / 2),
  };
  for (const std::string& in : inputs) {
    VerifyResult r = Verify(in, Pinned());
    EXPECT_FALSE(r.valid);
    EXPECT_EQ(ErrorCodes(r), std::vector<std::string>{"malformed"}) << in.substr(0, 80);
    EXPECT_FALSE(r.report.has_value());
  }
}

TEST_F(VerifierTest, FutureVersionIsUnsupported) {
  json j = Make().ToJson();
  j["version"] = 2;
  EXPECT_EQ(ErrorCodes(Verify(j.dump(), Pinned())), std::vector<std::string>{"unsupported_version"});
}

TEST_F(VerifierTest, Tpm2ReportWithGarbageQuoteIsRejected) {
  // Real quotes are tested against swtpm in tpm2_quote_test.cc.
  AttestationReport r = Make();
  r.platform = kPlatformTpm2;
  r.tpm_quote = TpmQuote{{1, 2}, {3, 4}, {5, 6}, {0, 7}, {TestHash("p0"), TestHash("p7")}, 7};
  key_.Sign(r);
  EXPECT_EQ(ErrorCodes(Verify(SerializeReport(r), Pinned())), std::vector<std::string>{"tpm_quote_invalid"});
}

TEST_F(VerifierTest, ExpectedPcrsOnASoftwareReportAreAnError) {
  VerifyOptions o = Pinned();
  o.expected_pcrs[16] = TestHash("p16");
  EXPECT_EQ(ErrorCodes(Verify(SerializeReport(Make()), o)), std::vector<std::string>{"pcr_mismatch"});
}

TEST(VerifyFlags, ExpectedPcrAndTpmAk) {
  VerifyFlags f;
  f.nonce_hex = std::string(64, 'a');
  f.expected_pcrs = {"16:" + std::string(64, 'b')};
  f.tpm_ak_hex = "0011";
  auto o = VerifyOptionsFromFlags(f);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->expected_pcrs.at(16)[0], 0xbb);
  EXPECT_EQ(*o->expected_tpm_ak_public, (std::vector<uint8_t>{0x00, 0x11}));
  for (std::string bad : {std::string("16"), "24:" + std::string(64, 'b'), "x:" + std::string(64, 'b'), std::string("16:00")}) {
    f.expected_pcrs = {bad};
    EXPECT_FALSE(VerifyOptionsFromFlags(f).ok()) << bad;
  }
}

TEST_F(VerifierTest, InvalidStructIsMalformed) {
  AttestationReport r = Make();
  r.sigil_version = "bad version";
  EXPECT_EQ(ErrorCodes(Verify(r, Pinned())), std::vector<std::string>{"malformed"});
}

TEST(VerifyOptionsFromFlags, ParsesAndChecksEveryFlag) {
  VerifyFlags f;
  f.nonce_hex = "0x" + std::string(64, 'A');
  f.expected_measurement_hex = HexEncode(TestHash("binary"));
  f.pubkey_hex = HexEncode(TestAttestationKey(0x01).public_key());
  f.allow_debug = true;
  f.min_security_version = 3;
  auto o = VerifyOptionsFromFlags(f);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->nonce, std::vector<uint8_t>(32, 0xaa));
  EXPECT_EQ(o->expected_measurement, TestHash("binary"));
  EXPECT_EQ(o->expected_pubkey, TestAttestationKey(0x01).public_key());
  EXPECT_TRUE(o->allow_debug);
  EXPECT_EQ(o->min_security_version, 3u);

  VerifyFlags minimal;
  minimal.nonce_hex = std::string(32, '1');
  auto m = VerifyOptionsFromFlags(minimal);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->expected_measurement.has_value());
  EXPECT_FALSE(m->expected_pubkey.has_value());

  for (const std::string& bad_nonce : {std::string(""), std::string(30, '1'), std::string(130, '1'), std::string("zz")}) {
    VerifyFlags b = minimal;
    b.nonce_hex = bad_nonce;
    auto r = VerifyOptionsFromFlags(b);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(r.status().message()).find("--nonce"), std::string::npos);
  }
  VerifyFlags short_measurement = minimal;
  short_measurement.expected_measurement_hex = "abcd";
  EXPECT_NE(std::string(VerifyOptionsFromFlags(short_measurement).status().message()).find("--expected-measurement"),
            std::string::npos);
  VerifyFlags bad_key = minimal;
  bad_key.pubkey_hex = std::string(64, 'g');
  EXPECT_NE(std::string(VerifyOptionsFromFlags(bad_key).status().message()).find("--pubkey"), std::string::npos);
}

}  // namespace
}  // namespace sigil::attest
