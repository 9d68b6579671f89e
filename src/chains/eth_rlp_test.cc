#include "chains/ethereum/rlp.h"

#include <string>

#include "base/hex.h"
#include "gtest/gtest.h"

namespace sigil::eth {
namespace {

Bytes H(const std::string& hex) { return *HexDecode(hex); }

std::string Enc(const RlpItem& item) { return HexEncode(RlpEncode(item)); }

absl::Status DecodeStatus(const std::string& hex, const RlpLimits& limits = {}) {
  return RlpDecode(H(hex), limits).status();
}

// Yellow paper / wiki examples.
TEST(EthRlp, EncodesCanonicalExamples) {
  EXPECT_EQ(Enc(RlpItem::FromString("dog")), "83646f67");
  EXPECT_EQ(Enc(RlpItem::List({RlpItem::FromString("cat"), RlpItem::FromString("dog")})), "c88363617483646f67");
  EXPECT_EQ(Enc(RlpItem()), "80");
  EXPECT_EQ(Enc(RlpItem::List()), "c0");
  EXPECT_EQ(Enc(RlpItem::FromUint(uint64_t{0})), "80");
  EXPECT_EQ(Enc(RlpItem::FromBytes(H("00"))), "00");
  EXPECT_EQ(Enc(RlpItem::FromUint(uint64_t{15})), "0f");
  EXPECT_EQ(Enc(RlpItem::FromUint(uint64_t{1024})), "820400");
  EXPECT_EQ(Enc(RlpItem::FromUint(uint64_t{0x80})), "8180");
  EXPECT_EQ(Enc(RlpItem::FromUint(UINT64_MAX)), "88ffffffffffffffff");
  EXPECT_EQ(Enc(RlpItem::FromUint(Uint256::Max())),
            "a0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
  // Set-theoretic representation of three: [ [], [[]], [ [], [[]] ] ].
  RlpItem empty = RlpItem::List();
  RlpItem one = RlpItem::List({empty});
  EXPECT_EQ(Enc(RlpItem::List({empty, one, RlpItem::List({empty, one})})), "c7c0c1c0c3c0c1c0");
  std::string lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
  EXPECT_EQ(Enc(RlpItem::FromString(lorem)), "b838" + HexEncode(AsBytes(lorem)));
  // 55 vs 56 byte boundary for strings and lists.
  EXPECT_EQ(Enc(RlpItem::FromBytes(Bytes(55, 0xaa))).substr(0, 2), "b7");
  EXPECT_EQ(Enc(RlpItem::FromBytes(Bytes(56, 0xaa))).substr(0, 4), "b838");
  EXPECT_EQ(Enc(RlpItem::FromBytes(Bytes(256, 0xaa))).substr(0, 6), "b90100");
  std::vector<RlpItem> items(55, RlpItem::FromUint(uint64_t{1}));
  EXPECT_EQ(Enc(RlpItem::List(items)).substr(0, 2), "f7");
  items.push_back(RlpItem::FromUint(uint64_t{1}));
  EXPECT_EQ(Enc(RlpItem::List(items)).substr(0, 4), "f838");
}

TEST(EthRlp, RoundTripsAndSizes) {
  std::vector<RlpItem> cases = {
      RlpItem(), RlpItem::FromString("a"), RlpItem::FromBytes(Bytes(1000, 7)),
      RlpItem::List({RlpItem::FromBytes(Bytes(60, 1)), RlpItem::List({RlpItem(), RlpItem::FromUint(uint64_t{300})})}),
      RlpItem::FromBytes(Bytes(70000, 0x81))};
  for (const RlpItem& item : cases) {
    Bytes enc = RlpEncode(item);
    EXPECT_EQ(enc.size(), RlpEncodedSize(item));
    auto dec = RlpDecode(enc);
    ASSERT_TRUE(dec.ok()) << dec.status();
    EXPECT_EQ(*dec, item);
  }
}

TEST(EthRlp, DecodesStructure) {
  auto item = RlpDecode(H("c88363617483646f67"));
  ASSERT_TRUE(item.ok());
  ASSERT_TRUE(item->is_list());
  ASSERT_EQ(item->items().size(), 2u);
  EXPECT_EQ(item->items()[1].bytes(), Bytes({'d', 'o', 'g'}));
  auto byte = RlpDecode(H("7f"));
  ASSERT_TRUE(byte.ok());
  EXPECT_EQ(byte->bytes(), Bytes({0x7f}));
}

TEST(EthRlp, RejectsNonCanonical) {
  // Single byte < 0x80 wrapped.
  absl::Status st = DecodeStatus("8105");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(st.message()).find("offset 0"), std::string::npos) << st;
  EXPECT_NE(std::string(st.message()).find("encoded as itself"), std::string::npos) << st;
  EXPECT_FALSE(DecodeStatus("8100").ok());
  EXPECT_TRUE(DecodeStatus("8180").ok());
  // Long form for a short string / list.
  EXPECT_FALSE(DecodeStatus("b801aa").ok());
  EXPECT_FALSE(DecodeStatus("b837" + std::string(110, 'a')).ok());
  EXPECT_FALSE(DecodeStatus("f80180").ok());
  // Leading zero in the length of the length.
  EXPECT_FALSE(DecodeStatus("b90038" + std::string(112, 'a')).ok());
  EXPECT_FALSE(DecodeStatus("f90038" + std::string(112, 'a')).ok());
  // Non-canonical item nested in a list: offset points at it.
  st = DecodeStatus("c3018105");
  EXPECT_NE(std::string(st.message()).find("offset 2"), std::string::npos) << st;
}

TEST(EthRlp, RejectsTruncatedAndTrailing) {
  EXPECT_FALSE(DecodeStatus("").ok());
  EXPECT_FALSE(DecodeStatus("83646f").ok());       // string runs past end
  EXPECT_FALSE(DecodeStatus("c88363617483646f").ok());
  EXPECT_FALSE(DecodeStatus("b8").ok());           // missing length byte
  EXPECT_FALSE(DecodeStatus("bf0102").ok());       // 8-byte length missing
  EXPECT_FALSE(DecodeStatus("bfffffffffffffffff").ok());  // huge length
  EXPECT_FALSE(DecodeStatus("ffffffffffffffffff").ok());
  // Child runs past the end of its list although the input continues.
  EXPECT_FALSE(DecodeStatus("c18363617483646f67").ok());
  absl::Status st = DecodeStatus("8080");
  EXPECT_NE(std::string(st.message()).find("trailing"), std::string::npos) << st;
  EXPECT_FALSE(DecodeStatus("c000").ok());
}

TEST(EthRlp, DepthBound) {
  // 16 nested lists decode with the default limit, 17 do not.
  RlpItem nested = RlpItem::List();
  for (int i = 1; i < 16; ++i) nested = RlpItem::List({nested});
  EXPECT_TRUE(RlpDecode(RlpEncode(nested)).ok());
  RlpItem deeper = RlpItem::List({nested});
  absl::Status st = RlpDecode(RlpEncode(deeper)).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(st.message()).find("nested deeper"), std::string::npos) << st;
  RlpLimits limits;
  limits.max_depth = 2;
  EXPECT_TRUE(RlpDecode(H("c1c0"), limits).ok());
  EXPECT_FALSE(RlpDecode(H("c2c1c0"), limits).ok());
  // A deep attack input (100k nested lists) fails fast without recursion blow-up.
  Bytes attack(100000, 0xc0);
  for (size_t i = 0; i + 1 < attack.size(); ++i) attack[i] = 0xc1;
  EXPECT_FALSE(RlpDecode(attack).ok());
}

TEST(EthRlp, SizeBound) {
  Bytes big = RlpEncode(RlpItem::FromBytes(Bytes(200 * 1024, 1)));
  absl::Status st = RlpDecode(big).status();
  EXPECT_NE(std::string(st.message()).find("exceeds the limit"), std::string::npos) << st;
  RlpLimits limits;
  limits.max_input_size = big.size();
  EXPECT_TRUE(RlpDecode(big, limits).ok());
  limits.max_input_size = 10;
  EXPECT_FALSE(RlpDecode(H("8b0102030405060708090a0b"), limits).ok());
}

TEST(EthRlp, GarbageNeverCrashesAndAcceptedInputsRoundTrip) {
  // Deterministic pseudo-random garbage; every accepted input must re-encode
  // to itself (canonical decoding).
  uint64_t state = 0x9e3779b97f4a7c15ull;
  size_t accepted = 0;
  for (int n = 0; n < 20000; ++n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    size_t len = (state >> 33) % 24;
    Bytes in(len);
    for (size_t i = 0; i < len; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      uint8_t b = static_cast<uint8_t>(state >> 56);
      // Bias towards small length prefixes so some inputs are valid.
      if (i == 0 && (state & 3) == 0) b = static_cast<uint8_t>(0xc0 + len - 1);
      in[i] = b;
    }
    auto item = RlpDecode(in);
    if (item.ok()) {
      ++accepted;
      EXPECT_EQ(RlpEncode(*item), in) << HexEncode(in);
    }
  }
  EXPECT_GT(accepted, 100u);
}

TEST(EthRlp, StreamingEncoderMatchesItems) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{0x7f}, uint64_t{0x80}, uint64_t{0xff}, uint64_t{0x100},
                     uint64_t{0xffffffff}, UINT64_MAX}) {
    Bytes out;
    RlpAppendUint(v, out);
    EXPECT_EQ(out, RlpEncode(RlpItem::FromUint(v))) << v;
    EXPECT_EQ(out.size(), RlpUintSize(v)) << v;
    Uint256 big(v);
    Bytes out256;
    RlpAppendUint(big, out256);
    EXPECT_EQ(out256, out);
    EXPECT_EQ(RlpUintSize(big), out.size());
  }
  for (const Uint256& v : {Uint256::Max(), *Uint256::ParseHex("0x10000000000000000"),
                           *Uint256::ParseHex("0x80" + std::string(60, '0'))}) {
    Bytes out;
    RlpAppendUint(v, out);
    EXPECT_EQ(out, RlpEncode(RlpItem::FromUint(v)));
    EXPECT_EQ(out.size(), RlpUintSize(v));
  }
  for (size_t len : {0, 1, 55, 56, 255, 256, 70000}) {
    for (uint8_t fill : {uint8_t{0x00}, uint8_t{0x80}}) {
      Bytes s(len, fill);
      Bytes out;
      RlpAppendString(s, out);
      EXPECT_EQ(out, RlpEncode(RlpItem::FromBytes(s))) << len;
      EXPECT_EQ(out.size(), RlpStringSize(s));
      Bytes list;
      RlpAppendListHeader(out.size(), list);
      list.insert(list.end(), out.begin(), out.end());
      EXPECT_EQ(list, RlpEncode(RlpItem::List({RlpItem::FromBytes(s)})));
      EXPECT_EQ(list.size(), RlpListSize(out.size()));
    }
  }
}

TEST(EthRlp, IntegerHelpers) {
  EXPECT_EQ(*RlpToUint64(RlpItem(), "x"), 0u);
  EXPECT_EQ(*RlpToUint64(RlpItem::FromBytes(H("0400")), "x"), 1024u);
  EXPECT_EQ(*RlpToUint64(RlpItem::FromBytes(H("ffffffffffffffff")), "x"), UINT64_MAX);
  absl::Status st = RlpToUint64(RlpItem::FromBytes(H("0004")), "field 'nonce'").status();
  EXPECT_NE(std::string(st.message()).find("field 'nonce'"), std::string::npos);
  EXPECT_NE(std::string(st.message()).find("leading zero"), std::string::npos);
  EXPECT_FALSE(RlpToUint64(RlpItem::FromBytes(H("00")), "x").ok());
  EXPECT_FALSE(RlpToUint64(RlpItem::FromBytes(H("010000000000000000")), "x").ok());
  EXPECT_FALSE(RlpToUint64(RlpItem::List(), "x").ok());
  EXPECT_EQ(*RlpToUint256(RlpItem::FromBytes(Bytes(32, 0xff)), "x"), Uint256::Max());
  EXPECT_FALSE(RlpToUint256(RlpItem::FromBytes(Bytes(33, 0xff)), "x").ok());
}

}  // namespace
}  // namespace sigil::eth
