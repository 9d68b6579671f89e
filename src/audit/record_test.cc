#include "audit/record.h"

#include <random>

#include "audit/audit_testing.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace sigil::audit {
namespace {

TEST(AuditRecord, EncodesCanonicalJsonExactly) {
  AuditRecord r;
  r.seq = 7;
  r.time_ms = 1767225600123;
  r.type = "sign.request";
  r.principal = "bot-1";
  r.key = "trader";
  r.decision = "allow";
  r.rule = "small-payments";
  r.reason = "ok";
  r.payload_hash = "ab01";
  r.extra = {{"to", "0x11"}, {"chain_id", "1"}};
  auto encoded = EncodeRecord(r);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(*encoded,
            R"({"decision":"allow","extra":{"chain_id":"1","to":"0x11"},"key":"trader","payload_hash":"ab01",)"
            R"("principal":"bot-1","reason":"ok","rule":"small-payments","seq":7,"signature_hash":"",)"
            R"("time":1767225600123,"type":"sign.request"})");
  auto parsed = ParseRecord(AsBytes(*encoded));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, r);
}

TEST(AuditRecord, EscapesAndUnicodeRoundTrip) {
  AuditRecord r = testing::SampleRecord(3);
  r.reason = std::string("quote\" backslash\\ nl\n tab\t cr\r bell\x07 del\x7f nul") + '\0' + " é 日本 🙂";
  r.extra["k\x01"] = "v\x1f";
  auto encoded = EncodeRecord(r);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_NE(encoded->find("\\u0007"), std::string::npos);
  EXPECT_NE(encoded->find("\\u0000"), std::string::npos);
  auto parsed = ParseRecord(AsBytes(*encoded));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, r);
}

TEST(AuditRecord, CanonicalFormEqualsSortedCompactJson) {
  // Our canonical form is what a standard JSON library emits with sorted
  // keys and no whitespace, so third-party verifiers can reproduce it.
  std::mt19937 rng(1);
  for (uint64_t i = 0; i < 300; ++i) {
    AuditRecord r = testing::SampleRecord(i);
    r.seq = i * 7919;
    std::string s;
    for (int k = 0; k < 12; ++k) s.push_back(static_cast<char>(rng() % 0x80));
    r.reason = s + "ü";
    auto encoded = EncodeRecord(r);
    ASSERT_TRUE(encoded.ok());
    nlohmann::json j = nlohmann::json::parse(*encoded);
    EXPECT_EQ(j.dump(), *encoded);
    EXPECT_EQ(j["reason"].get<std::string>(), r.reason);
  }
}

TEST(AuditRecord, ParseRejectsNonCanonicalEncodings) {
  AuditRecord r = testing::SampleRecord(1);
  const std::string good = EncodeRecord(r).value();
  ASSERT_TRUE(ParseRecord(AsBytes(good)).ok());
  auto rejects = [](const std::string& s) { return !ParseRecord(AsBytes(s)).ok(); };
  EXPECT_TRUE(rejects(" " + good));
  EXPECT_TRUE(rejects(good + " "));
  EXPECT_TRUE(rejects(good + "\n"));
  std::string spaced = good;
  spaced.insert(spaced.find(':') + 1, " ");
  EXPECT_TRUE(rejects(spaced));
  // A JSON-equivalent escape of a plain character.
  std::string escaped = good;
  escaped.replace(escaped.find("\"allow\"") == std::string::npos ? escaped.find("\"deny\"") + 1
                                                                  : escaped.find("\"allow\"") + 1,
                  1, "\\u0061");
  EXPECT_TRUE(rejects(escaped));
  std::string slash = good;
  slash.replace(slash.find("agent"), 1, "\\/");
  EXPECT_TRUE(rejects(slash));
  // Leading zero in seq.
  std::string zero = good;
  zero.replace(zero.find("\"seq\":") + 6, 0, "0");
  EXPECT_TRUE(rejects(zero));
  // Reordered keys (valid JSON, same content).
  nlohmann::json j = nlohmann::json::parse(good);
  nlohmann::ordered_json o;
  o["type"] = j["type"];
  for (auto& [k, v] : j.items()) o[k] = v;
  EXPECT_TRUE(rejects(o.dump()));
  // Duplicated key, missing key, unknown key.
  EXPECT_TRUE(rejects(std::string(R"({"decision":"a","decision":"b"})")));
  j.erase("rule");
  EXPECT_TRUE(rejects(j.dump()));
  j = nlohmann::json::parse(good);
  j["zzz"] = "x";
  EXPECT_TRUE(rejects(j.dump()));
  j = nlohmann::json::parse(good);
  j["seq"] = -1;
  EXPECT_TRUE(rejects(j.dump()));
  j = nlohmann::json::parse(good);
  j["seq"] = "1";
  EXPECT_TRUE(rejects(j.dump()));
  EXPECT_TRUE(rejects(""));
  EXPECT_TRUE(rejects("{}"));
  EXPECT_TRUE(rejects("[1]"));
  EXPECT_TRUE(rejects(good.substr(0, good.size() - 1)));
  std::string huge = good;
  huge.replace(huge.find("\"seq\":") + 6, 1, "99999999999999999999999");
  EXPECT_TRUE(rejects(huge));
  // Invalid UTF-8 inside a string.
  std::string bad_utf8 = good;
  bad_utf8.replace(bad_utf8.find("agent"), 1, "\xC0\xAF");
  EXPECT_TRUE(rejects(bad_utf8));
}

TEST(AuditRecord, ValidationBounds) {
  AuditRecord r = testing::SampleRecord(0);
  EXPECT_TRUE(ValidateRecord(r).ok());
  AuditRecord t = r;
  t.type = "";
  EXPECT_FALSE(EncodeRecord(t).ok());
  t.type = "Sign.Request";
  EXPECT_FALSE(EncodeRecord(t).ok());
  t.type = std::string(65, 'a');
  EXPECT_FALSE(EncodeRecord(t).ok());
  t = r;
  t.payload_hash = "ABCD";
  EXPECT_FALSE(EncodeRecord(t).ok());
  t.payload_hash = "0xabcd";
  EXPECT_FALSE(EncodeRecord(t).ok());
  t.payload_hash = "abc";
  EXPECT_FALSE(EncodeRecord(t).ok());
  t = r;
  t.reason = std::string(kMaxFieldBytes + 1, 'x');
  EXPECT_FALSE(EncodeRecord(t).ok());
  t = r;
  t.principal = "\xff\xfe";
  EXPECT_FALSE(EncodeRecord(t).ok());
  t = r;
  for (size_t i = 0; i <= kMaxExtraEntries; ++i) t.extra["k" + std::to_string(i)] = "v";
  EXPECT_FALSE(EncodeRecord(t).ok());
  t = r;
  for (int i = 0; i < 10; ++i) t.extra["k" + std::to_string(i)] = std::string(kMaxFieldBytes, 'y');
  auto too_big = EncodeRecord(t);
  EXPECT_FALSE(too_big.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(too_big.status()));
}

}  // namespace
}  // namespace sigil::audit
