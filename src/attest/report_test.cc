#include "attest/report.h"

#include <functional>
#include <string>

#include "attest/test_attestation_key.h"
#include "base/hex.h"
#include "gtest/gtest.h"

namespace sigil::attest {
namespace {

using nlohmann::json;

AttestationReport SignedSample(bool with_quote = false) {
  TestAttestationKey key(0x01);
  FakeClock clock;
  Reporter reporter = Reporter::Create({key.Signer(), key.public_key(), TestHash("binary"), "0.1.0", false, &clock, {}}).value();
  AttestationReport r = reporter.Build(TestNonce(), SampleState()).value();
  if (with_quote) {
    r.platform = kPlatformTpm2;
    r.tpm_quote = TpmQuote{{0xff, 0x54}, {0x00, 0x14}, {0x00, 0x01}, {0, 7, 23}, {TestHash("p0"), TestHash("p7"), TestHash("p23")}, 23};
    key.Sign(r);
  }
  return r;
}

// Parses `j` as report text.
absl::StatusOr<AttestationReport> ParseJson(const json& j) { return ParseReport(j.dump()); }

TEST(Report, JsonRoundTrip) {
  for (bool quote : {false, true}) {
    const AttestationReport r = SignedSample(quote);
    auto back = AttestationReport::FromJson(r.ToJson());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, r);
    auto text = ParseReport(SerializeReport(r));
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_EQ(*text, r);
  }
}

TEST(Report, CanonicalBytesAreDomainSeparatedSortedAndCompact) {
  const AttestationReport r = SignedSample();
  const std::string bytes = CanonicalReportBytes(r);
  ASSERT_EQ(bytes.rfind("sigil-attestation/v1\n", 0), 0u);
  const std::string body = bytes.substr(std::string("sigil-attestation/v1\n").size());
  EXPECT_EQ(body.find_first_of(" \n\t"), std::string::npos);
  EXPECT_EQ(body.find("\"signature\""), std::string::npos) << "the signature does not sign itself";
  // Keys in byte-wise order at the top level.
  const json j = json::parse(body);
  std::string previous;
  size_t pos = 0;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const size_t at = body.find("\"" + it.key() + "\":", pos);
    ASSERT_NE(at, std::string::npos) << it.key();
    EXPECT_LT(previous, it.key());
    previous = it.key();
    pos = at;
  }
  // Whatever layout or key order the report arrives in, it signs the same bytes.
  json shuffled = r.ToJson();
  std::string reordered = "{\"version\":1,";
  for (auto it = shuffled.begin(); it != shuffled.end(); ++it) {
    if (it.key() != "version") reordered += "\"" + it.key() + "\" : " + it.value().dump(4) + ",\n";
  }
  reordered.resize(reordered.size() - 2);
  reordered += "}";
  auto parsed = ParseReport(reordered);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(CanonicalReportBytes(*parsed), bytes);
}

TEST(Report, EveryFieldIsSigned) {
  const AttestationReport base = SignedSample();
  const std::string bytes = CanonicalReportBytes(base);
  std::vector<std::function<void(AttestationReport&)>> changes = {
      [](auto& r) { r.nonce[0] ^= 1; },
      [](auto& r) { r.time_ms += 1; },
      [](auto& r) { r.measurement[31] ^= 1; },
      [](auto& r) { r.config_hash[0] ^= 1; },
      [](auto& r) { r.policy_hash[0] ^= 1; },
      [](auto& r) { r.audit.size += 1; },
      [](auto& r) { r.audit.root[5] ^= 1; },
      [](auto& r) { r.keys[0].name += "x"; },
      [](auto& r) { r.keys[1].address = ""; },
      [](auto& r) { r.keys.pop_back(); },
      [](auto& r) { r.audit_public_key[0] ^= 1; },
      [](auto& r) { r.attestation_public_key[0] ^= 1; },
      [](auto& r) { r.security_version += 1; },
      [](auto& r) { r.sigil_version = "0.1.1"; },
      [](auto& r) { r.debug = !r.debug; },
      [](auto& r) {
        r.platform = kPlatformTpm2;
        r.tpm_quote = TpmQuote{{1}, {2}, {3}, {16}, {TestHash("p16")}, 16};
      },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    AttestationReport r = base;
    changes[i](r);
    EXPECT_NE(CanonicalReportBytes(r), bytes) << "change " << i;
  }
  AttestationReport r = base;
  r.signature[0] ^= 1;
  EXPECT_EQ(CanonicalReportBytes(r), bytes);
}

TEST(Report, SignatureVerifiesOnlyUnderTheSigningKey) {
  const AttestationReport r = SignedSample();
  EXPECT_TRUE(VerifyReportSignature(r, TestAttestationKey(0x01).public_key()));
  EXPECT_FALSE(VerifyReportSignature(r, TestAttestationKey(0x02).public_key()));
}

struct BadCase {
  const char* name;
  std::function<void(json&)> change;
};

TEST(Report, StrictParserRejectsEveryDeviation) {
  const json good = SignedSample().ToJson();
  ASSERT_TRUE(ParseJson(good).ok());
  const std::vector<BadCase> cases = {
      {"unknown top-level field", [](json& j) { j["extra"] = 1; }},
      {"unknown audit field", [](json& j) { j["audit"]["extra"] = 1; }},
      {"unknown key field", [](json& j) { j["keys"][0]["id"] = "key_x"; }},
      {"missing nonce", [](json& j) { j.erase("nonce"); }},
      {"missing signature", [](json& j) { j.erase("signature"); }},
      {"missing audit.size", [](json& j) { j["audit"].erase("size"); }},
      {"upper-case hex", [](json& j) { j["measurement"] = std::string(64, 'A'); }},
      {"0x prefix", [](json& j) { j["config_hash"] = "0x" + std::string(62, 'a'); }},
      {"short hash", [](json& j) { j["policy_hash"] = std::string(62, 'a'); }},
      {"long signature", [](json& j) { j["signature"] = std::string(130, 'a'); }},
      {"odd nonce", [](json& j) { j["nonce"] = std::string(33, 'a'); }},
      {"nonce too short", [](json& j) { j["nonce"] = std::string(30, 'a'); }},
      {"nonce too long", [](json& j) { j["nonce"] = std::string(130, 'a'); }},
      {"negative time", [](json& j) { j["time"] = -1; }},
      {"float time", [](json& j) { j["time"] = 1.5; }},
      {"string time", [](json& j) { j["time"] = "1"; }},
      {"security_version over 32 bits", [](json& j) { j["security_version"] = uint64_t{1} << 32; }},
      {"debug as string", [](json& j) { j["debug"] = "false"; }},
      {"debug as integer", [](json& j) { j["debug"] = 0; }},
      {"keys not an array", [](json& j) { j["keys"] = json::object(); }},
      {"key name with space", [](json& j) { j["keys"][0]["name"] = "my key"; }},
      {"key name empty", [](json& j) { j["keys"][0]["name"] = ""; }},
      {"key name unicode", [](json& j) { j["keys"][0]["name"] = "cl\xc3\xa9"; }},
      {"key type unknown", [](json& j) { j["keys"][0]["type"] = "rsa"; }},
      {"key wrong size for type", [](json& j) { j["keys"][0]["type"] = "secp256k1"; j["keys"][0]["public_key"] = std::string(64, 'a'); }},
      {"address with punctuation", [](json& j) { j["keys"][0]["address"] = "npub1\"x"; }},
      {"address control char", [](json& j) { j["keys"][0]["address"] = "a\nb"; }},
      {"unknown platform", [](json& j) { j["platform"] = "sgx"; }},
      {"tpm2 without quote", [](json& j) { j["platform"] = "tpm2"; }},
      {"quote on software", [](json& j) {
         j["tpm_quote"] = {{"ak_public", "01"}, {"attest", "02"}, {"pcrs", json::array()}, {"signature", "03"}};
       }},
      {"sigil_version empty", [](json& j) { j["sigil_version"] = ""; }},
      {"sigil_version with space", [](json& j) { j["sigil_version"] = "0.1 beta"; }},
      {"version as string", [](json& j) { j["version"] = "1"; }},
      {"report is an array", [](json& j) { j = json::array({j}); }},
      {"audit is an array", [](json& j) { j["audit"] = json::array(); }},
  };
  for (const BadCase& c : cases) {
    json j = good;
    c.change(j);
    auto r = ParseJson(j);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.name << ": " << r.status();
  }
}

TEST(Report, TpmQuoteRules) {
  const json good = SignedSample(/*with_quote=*/true).ToJson();
  ASSERT_TRUE(ParseJson(good).ok());
  const std::vector<BadCase> cases = {
      {"pcrs not ascending", [](json& j) { j["tpm_quote"]["pcrs"] = {7, 0}; }},
      {"pcr duplicated", [](json& j) { j["tpm_quote"]["pcrs"] = {7, 7}; }},
      {"pcr out of range", [](json& j) { j["tpm_quote"]["pcrs"] = {24}; }},
      {"empty attest", [](json& j) { j["tpm_quote"]["attest"] = ""; }},
      {"oversize blob", [](json& j) { j["tpm_quote"]["signature"] = std::string(2 * kMaxTpmBlobBytes + 2, 'a'); }},
      {"unknown quote field", [](json& j) { j["tpm_quote"]["nonce"] = "00"; }},
      {"quote not an object", [](json& j) { j["tpm_quote"] = "00"; }},
      {"no pcrs", [](json& j) { j["tpm_quote"]["pcrs"] = json::array(); j["tpm_quote"]["pcr_values"] = json::array(); }},
      {"value count differs", [](json& j) { j["tpm_quote"]["pcr_values"].erase(0); }},
      {"value not 32 bytes", [](json& j) { j["tpm_quote"]["pcr_values"][0] = "00"; }},
      {"measured pcr not quoted", [](json& j) { j["tpm_quote"]["measured_pcr"] = 16; }},
      {"measured pcr missing", [](json& j) { j["tpm_quote"].erase("measured_pcr"); }},
  };
  for (const BadCase& c : cases) {
    json j = good;
    c.change(j);
    EXPECT_EQ(ParseJson(j).status().code(), absl::StatusCode::kInvalidArgument) << c.name;
  }
}

TEST(Report, OtherVersionsAreUnsupportedNotMalformed) {
  json j = SignedSample().ToJson();
  j["version"] = 2;
  j["new_field_of_v2"] = true;
  auto r = ParseJson(j);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  j.erase("version");
  EXPECT_EQ(ParseJson(j).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Report, DuplicateFieldsAreRejected) {
  const std::string text = SerializeReport(SignedSample());
  // Repeat the debug field with the other value at the end of the object.
  std::string dup = text.substr(0, text.rfind('}')) + ",\"debug\": true}";
  auto r = ParseReport(dup);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(r.status().message()).find("duplicate"), std::string::npos) << r.status();
  // Also inside a nested object.
  std::string nested = text;
  const size_t at = nested.find("\"size\"");
  ASSERT_NE(at, std::string::npos);
  nested.insert(at, "\"size\": 1, ");
  EXPECT_EQ(ParseReport(nested).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Report, HostileInputIsRefusedWithoutCrashing) {
  EXPECT_FALSE(ParseReport("").ok());
  EXPECT_FALSE(ParseReport("null").ok());
  EXPECT_FALSE(ParseReport("{").ok());
  EXPECT_FALSE(ParseReport(std::string("{\"version\":1\0}", 14)).ok());
  EXPECT_FALSE(ParseReport("\xff\xfe").ok());
  EXPECT_FALSE(ParseReport(std::string(200000, '[') + std::string(200000, ']')).ok());
  std::string huge = "{\"version\":1,\"sigil_version\":\"" + std::string(kMaxReportBytes, 'a') + "\"}";
  auto r = ParseReport(huge);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  // Too many keys.
  json j = SignedSample().ToJson();
  for (size_t i = 0; i <= kMaxReportKeys; ++i) j["keys"].push_back(j["keys"][0]);
  EXPECT_EQ(ParseJson(j).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Report, ValidateReportNamesTheField) {
  AttestationReport r = SignedSample();
  r.nonce.resize(15);
  absl::Status st = ValidateReport(r);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(st.message()).find("nonce"), std::string::npos) << st;
}

}  // namespace
}  // namespace sigil::attest
