#include "chains/nostr/event.h"

#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "crypto/secp256k1.h"

namespace sigil::nostr {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

json LoadVectors() {
  std::ifstream in(std::string(SIGIL_VECTORS_DIR) + "/nip01/nip01-events.json");
  EXPECT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

SecretBytes Key(const std::string& hex) { return SecretBytes::CopyFrom(*HexDecode(hex)); }

const char kKeyHex[] = "d217c1ff2f8a65c3e3a1740db3b9f58b8c848bb45e26d00ed4714e4a0f4ceecf";

TEST(NostrEventTest, AllNip01Vectors) {
  json file = LoadVectors();
  int valid = 0, invalid = 0;
  for (const json& v : file["vectors"]) {
    SCOPED_TRACE(v["name"].get<std::string>());
    auto ev = SignedEvent::Parse(v["event"].dump());
    ASSERT_TRUE(ev.ok()) << ev.status();
    const bool expected_valid = v["expected_valid"].get<bool>();
    absl::Status st = ev->Verify();
    EXPECT_EQ(st.ok(), expected_valid) << st;
    expected_valid ? ++valid : ++invalid;
    if (v.contains("serialized")) {
      EXPECT_EQ(SerializeForId(ev->pubkey(), ev->event()), v["serialized"].get<std::string>());
    }
    if (v.contains("secret_key") && v["secret_key"].is_string()) {
      auto pub = crypto::DeriveXOnlyPublicKey(Key(v["secret_key"].get<std::string>()));
      ASSERT_TRUE(pub.ok());
      EXPECT_EQ(*pub, ev->pubkey());
    }
    if (v.contains("aux_rand")) {
      // Deterministic BIP-340 reproduces the published signature over our id.
      std::array<uint8_t, 32> aux{};
      auto aux_bytes = *HexDecode(v["aux_rand"].get<std::string>());
      std::copy(aux_bytes.begin(), aux_bytes.end(), aux.begin());
      auto sig = crypto::SchnorrSignWithAux(Key(v["secret_key"].get<std::string>()),
                                            ComputeEventId(ev->pubkey(), ev->event()), aux);
      ASSERT_TRUE(sig.ok());
      EXPECT_EQ(HexEncode(*sig), v["event"]["sig"].get<std::string>());
    }
  }
  EXPECT_EQ(valid, 4);
  EXPECT_EQ(invalid, 1);
}

TEST(NostrEventTest, NegativeVectorFailsBecauseOfTheId) {
  json file = LoadVectors();
  for (const json& v : file["vectors"]) {
    if (v["expected_valid"].get<bool>()) continue;
    auto ev = SignedEvent::Parse(v["event"].dump());
    ASSERT_TRUE(ev.ok());
    EXPECT_THAT(std::string(ev->Verify().message()), HasSubstr("id does not match"));
  }
}

TEST(NostrEventTest, SerializationEscapesExactlyTheNip01Set) {
  auto e = UnsignedEvent::Create(1, 1, {{"t", "a\"b"}}, "q\"b\\s\n\r\t\b\f é🚀 \x7f \u2028 </script>/");
  ASSERT_TRUE(e.ok());
  crypto::XOnlyPublicKey pk{};
  EXPECT_EQ(SerializeForId(pk, *e), "[0,\"" + std::string(64, '0') +
                                        "\",1,1,[[\"t\",\"a\\\"b\"]],\"q\\\"b\\\\s\\n\\r\\t\\b\\f é🚀 \x7f \u2028 </script>/\"]");
  // Other control characters are verbatim in the NIP-01 serialization.
  auto ctl = UnsignedEvent::Create(1, 1, {}, std::string("a\x01z\x00", 4));
  ASSERT_TRUE(ctl.ok());
  EXPECT_EQ(SerializeForId(pk, *ctl), "[0,\"" + std::string(64, '0') + "\",1,1,[],\"a\x01z" + std::string(1, '\0') + "\"]");
}

TEST(NostrEventTest, SignThenVerifyRoundTrip) {
  auto tmpl = UnsignedEvent::Parse(
      R"({"created_at":1700000000,"kind":7,"tags":[["e","abc"],["p","def","wss://r"]],"content":"+ \"quoted\" \\ é🚀\n"})");
  ASSERT_TRUE(tmpl.ok()) << tmpl.status();
  auto signed_event = SignEvent(Key(kKeyHex), *tmpl);
  ASSERT_TRUE(signed_event.ok()) << signed_event.status();
  EXPECT_TRUE(signed_event->Verify().ok());
  EXPECT_EQ(signed_event->PubkeyHex(), "6af0f9de588f2c53cedcba26c5e2402e0d0aa64ec7b47c9f8d97b5bc562bab5f");
  EXPECT_EQ(signed_event->id(), ComputeEventId(signed_event->pubkey(), *tmpl));

  auto reparsed = SignedEvent::Parse(signed_event->ToJsonText());
  ASSERT_TRUE(reparsed.ok()) << reparsed.status();
  EXPECT_TRUE(reparsed->Verify().ok());
  EXPECT_EQ(reparsed->IdHex(), signed_event->IdHex());
  EXPECT_EQ(reparsed->event().content(), tmpl->content());
  json j = signed_event->ToJson();
  EXPECT_EQ(j["kind"], 7);
  EXPECT_EQ(j["tags"][1][2], "wss://r");
  EXPECT_EQ(j["sig"].get<std::string>().size(), 128u);

  // Randomised aux: two signatures differ, both verify.
  auto again = SignEvent(Key(kKeyHex), *tmpl);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id(), signed_event->id());
  EXPECT_NE(again->sig(), signed_event->sig());
}

TEST(NostrEventTest, TamperingIsDetected) {
  auto tmpl = UnsignedEvent::Create(1700000000, 1, {{"p", "x"}}, "hello");
  ASSERT_TRUE(tmpl.ok());
  auto ev = SignEvent(Key(kKeyHex), *tmpl);
  ASSERT_TRUE(ev.ok());
  json base = ev->ToJson();

  auto verify = [](const json& j) {
    auto e = SignedEvent::FromJson(j);
    return e.ok() ? e->Verify() : e.status();
  };
  EXPECT_TRUE(verify(base).ok());
  for (const char* field : {"content", "created_at", "kind", "tags"}) {
    json t = base;
    if (std::string(field) == "content") t["content"] = "hello!";
    if (std::string(field) == "created_at") t["created_at"] = 1700000001;
    if (std::string(field) == "kind") t["kind"] = 2;
    if (std::string(field) == "tags") t["tags"][0][1] = "y";
    EXPECT_THAT(std::string(verify(t).message()), HasSubstr("id does not match")) << field;
  }
  // A consistent id but a signature from another key / a flipped bit.
  json t = base;
  std::string sig = t["sig"];
  sig[10] = sig[10] == '0' ? '1' : '0';
  t["sig"] = sig;
  EXPECT_THAT(std::string(verify(t).message()), HasSubstr("signature"));
  t = base;
  auto other = SignEvent(Key(std::string(63, '0') + "1"), *tmpl);
  ASSERT_TRUE(other.ok());
  t["sig"] = other->SigHex();
  EXPECT_FALSE(verify(t).ok());
}

TEST(NostrEventTest, AmbiguousControlCharacters) {
  auto tmpl = UnsignedEvent::Create(5, 1, {}, std::string("bell\x07"));
  ASSERT_TRUE(tmpl.ok());
  auto signed_event = SignEvent(Key(kKeyHex), *tmpl);
  ASSERT_FALSE(signed_event.ok());
  EXPECT_THAT(std::string(signed_event.status().message()), HasSubstr("content: control character U+0007"));
  auto in_tag = UnsignedEvent::Create(5, 1, {{"t", "x\x1f"}}, "ok");
  ASSERT_TRUE(in_tag.ok());
  EXPECT_THAT(std::string(SignEvent(Key(kKeyHex), *in_tag).status().message()), HasSubstr("tags[0][1]"));

  // Verify accepts such an event whether its id was computed verbatim
  // (NIP-01 text) or with \u0007 (JSON.stringify, go-nostr, serde).
  auto key = Key(kKeyHex);
  auto pub = *crypto::DeriveXOnlyPublicKey(key);
  const std::string verbatim = SerializeForId(pub, *tmpl);
  std::string escaped = verbatim;
  escaped.replace(escaped.find('\x07'), 1, "\\u0007");
  for (const std::string& ser : {verbatim, escaped}) {
    crypto::Hash256 id = crypto::Sha256(AsBytes(ser));
    auto sig = *crypto::SchnorrSign(key, id);
    json j = {{"id", HexEncode(id)}, {"pubkey", HexEncode(pub)}, {"created_at", 5}, {"kind", 1},
              {"tags", json::array()}, {"content", "bell\x07"}, {"sig", HexEncode(sig)}};
    auto ev = SignedEvent::FromJson(j);
    ASSERT_TRUE(ev.ok());
    EXPECT_TRUE(ev->Verify().ok()) << ser;
    // Its JSON output is valid JSON and round-trips.
    auto back = SignedEvent::Parse(ev->ToJsonText());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(back->Verify().ok());
  }
}

TEST(NostrEventTest, TemplateValidation) {
  auto err = [](const std::string& text) {
    auto e = UnsignedEvent::Parse(text);
    return e.ok() ? std::string("OK") : std::string(e.status().message());
  };
  EXPECT_EQ(err(R"({"created_at":1,"kind":1,"tags":[],"content":""})"), "OK");
  EXPECT_THAT(err(R"({"kind":1,"tags":[],"content":""})"), HasSubstr("created_at: missing"));
  EXPECT_THAT(err(R"({"created_at":-1,"kind":1,"tags":[],"content":""})"), HasSubstr("created_at"));
  EXPECT_THAT(err(R"({"created_at":1.5,"kind":1,"tags":[],"content":""})"), HasSubstr("created_at"));
  EXPECT_THAT(err(R"({"created_at":"1","kind":1,"tags":[],"content":""})"), HasSubstr("created_at"));
  EXPECT_THAT(err(R"({"created_at":9007199254740992,"kind":1,"tags":[],"content":""})"), HasSubstr("created_at"));
  EXPECT_EQ(err(R"({"created_at":9007199254740991,"kind":65535,"tags":[],"content":""})"), "OK");
  EXPECT_THAT(err(R"({"created_at":1,"kind":65536,"tags":[],"content":""})"), HasSubstr("kind"));
  EXPECT_THAT(err(R"({"created_at":1,"kind":1,"tags":[["a",1]],"content":""})"), HasSubstr("tags[0][1]"));
  EXPECT_THAT(err(R"({"created_at":1,"kind":1,"tags":["a"],"content":""})"), HasSubstr("tags[0]"));
  EXPECT_THAT(err(R"({"created_at":1,"kind":1,"tags":[[["deep"]]],"content":""})"), HasSubstr("deeper"));
  EXPECT_THAT(err(R"({"created_at":1,"kind":1,"tags":[],"content":null})"), HasSubstr("content"));
  EXPECT_THAT(err(R"({"created_at":1,"kind":1,"tags":[],"content":"","id":"00"})"), HasSubstr("unexpected key \"id\""));
  EXPECT_THAT(err(R"({"created_at":1,"kind":1,"tags":[],"content":"a","content":"b"})"), HasSubstr("duplicate key"));
  EXPECT_THAT(err(R"([1,2])"), HasSubstr("JSON object"));
  EXPECT_THAT(err("{\"created_at\":1,\"kind\":1,\"tags\":[],\"content\":\"\xc3\"}"), HasSubstr("JSON"));
  EXPECT_THAT(err(R"({"created_at":1,"kind":1,"tags":[],"content":"","pubkey":"ABC"})"), HasSubstr("pubkey"));
}

TEST(NostrEventTest, TemplatePubkeyMustMatchKey) {
  auto tmpl = UnsignedEvent::Parse(
      R"({"created_at":1,"kind":1,"tags":[],"content":"x","pubkey":"79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"})");
  ASSERT_TRUE(tmpl.ok()) << tmpl.status();
  EXPECT_THAT(std::string(SignEvent(Key(kKeyHex), *tmpl).status().message()), HasSubstr("pubkey"));
  EXPECT_TRUE(SignEvent(Key(std::string(63, '0') + "1"), *tmpl).ok());
}

TEST(NostrEventTest, Bounds) {
  EventLimits limits;
  limits.max_content_bytes = 10;
  limits.max_tags = 2;
  limits.max_tag_elements = 2;
  limits.max_tag_element_bytes = 4;
  EXPECT_TRUE(UnsignedEvent::Create(1, 1, {{"a", "b"}}, "0123456789", limits).ok());
  EXPECT_THAT(std::string(UnsignedEvent::Create(1, 1, {}, "0123456789x", limits).status().message()),
              HasSubstr("content: 11 bytes; the limit is 10"));
  EXPECT_FALSE(UnsignedEvent::Create(1, 1, {{"a"}, {"b"}, {"c"}}, "", limits).ok());
  EXPECT_FALSE(UnsignedEvent::Create(1, 1, {{"a", "b", "c"}}, "", limits).ok());
  EXPECT_FALSE(UnsignedEvent::Create(1, 1, {{"abcde"}}, "", limits).ok());
  EXPECT_FALSE(UnsignedEvent::Create(1, 1, {}, "\xc0\x80").ok());       // overlong NUL
  EXPECT_FALSE(UnsignedEvent::Create(1, 1, {}, "\xed\xa0\x80").ok());   // surrogate
  EXPECT_FALSE(UnsignedEvent::Create(1, 1, {}, "\xf4\x90\x80\x80").ok());  // > U+10FFFF
  EXPECT_FALSE(UnsignedEvent::Create(1, 1, {}, "\xe2\x82").ok());       // truncated
  EXPECT_TRUE(UnsignedEvent::Create(1, 1, {}, "\xf0\x9f\x9a\x80").ok());
  EXPECT_FALSE(UnsignedEvent::Create(kMaxCreatedAt + 1, 1, {}, "").ok());
  EXPECT_FALSE(UnsignedEvent::Create(1, kMaxKind + 1, {}, "").ok());

  EventLimits small_json;
  small_json.max_json_bytes = 20;
  EXPECT_THAT(std::string(UnsignedEvent::Parse(R"({"created_at":1,"kind":1,"tags":[],"content":""})", small_json)
                              .status()
                              .message()),
              HasSubstr("limit"));
}

TEST(NostrEventTest, SignedEventStructure) {
  json good = LoadVectors()["vectors"][0]["event"];
  EXPECT_TRUE(SignedEvent::FromJson(good).ok());
  for (const char* field : {"id", "pubkey", "sig"}) {
    json t = good;
    std::string s = t[field];
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    t[field] = s;
    EXPECT_FALSE(SignedEvent::FromJson(t).ok()) << field;
    t = good;
    t[field] = std::string(t[field]).substr(2);
    EXPECT_FALSE(SignedEvent::FromJson(t).ok()) << field;
    t = good;
    t.erase(field);
    EXPECT_FALSE(SignedEvent::FromJson(t).ok()) << field;
  }
  json extra = good;
  extra["relay"] = "x";
  EXPECT_FALSE(SignedEvent::FromJson(extra).ok());
}

TEST(NostrEventTest, TagValues) {
  auto e = UnsignedEvent::Create(1, 3, {{"p", "a"}, {"e", "b"}, {"p", "c", "wss://x"}, {"p"}}, "");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->TagValues("p"), (std::vector<std::string>{"a", "c"}));
  EXPECT_TRUE(e->TagValues("q").empty());
  EXPECT_EQ(e->kind(), 3u);
}

}  // namespace
}  // namespace sigil::nostr
