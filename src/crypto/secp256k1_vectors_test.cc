// Upstream vectors for secp256k1: Wycheproof ECDSA (three encodings/rules),
// BIP-340 Schnorr, and ethers.js key -> address derivations.
#include <secp256k1.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "base/hex.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "crypto/secp256k1_key_table.h"
#include "crypto/test_vectors.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace sigil::crypto {
namespace {

using test_vectors::FromHex;
using test_vectors::ReadVectorFile;
using test_vectors::ToArray;

enum class Encoding { kDer, kP1363 };

struct WycheproofTally {
  int total = 0;
  int valid = 0;
  int invalid = 0;
  int generic_ok = 0;       // given a recovery id 0/1 by libsecp256k1's recovery
  int table_confirmed = 0;  // of those, confirmed by the key table alone
};

// The key table's one-pass check (secp256k1_key_table.h) against
// libsecp256k1 on the same signature after low-s normalisation: it may
// confirm only what libsecp256k1 accepts, with the recovery id
// libsecp256k1's recovery agrees with; whatever it does not confirm still
// gets the library's answer through the fallback.
void CheckKeyTableAgrees(const Secp256k1PublicKey& pub, const Hash256& digest, const std::array<uint8_t, 64>& rs,
                         bool verified, WycheproofTally* tally) {
  static Secp256k1KeyTableCache tables(/*capacity=*/4,
                                       /*min_uses=*/1);  // one per test group
  std::shared_ptr<const Secp256k1KeyTable> table = tables.Lookup(pub);
  ASSERT_NE(table, nullptr);
  auto generic = NormalizeAndFindRecoveryId(digest, rs, pub);
  auto fast = NormalizeAndFindRecoveryId(digest, rs, *table);
  // Valid signatures whose R has x >= n (Wycheproof's "large x-coordinate"
  // cases) need recovery id 2 or 3, which Ethereum cannot carry: refused by
  // both.
  if (generic.ok()) {
    EXPECT_TRUE(verified);
  }
  ASSERT_EQ(fast.ok(), generic.ok());
  if (!generic.ok()) return;
  ++tally->generic_ok;
  EXPECT_EQ(fast->r, generic->r);
  EXPECT_EQ(fast->s, generic->s);
  EXPECT_EQ(fast->recovery_id, generic->recovery_id);
  std::array<uint8_t, 64> low;
  std::copy(generic->r.begin(), generic->r.end(), low.begin());
  std::copy(generic->s.begin(), generic->s.end(), low.begin() + 32);
  if (auto confirmed = table->ConfirmRecoveryId(digest, low)) {
    EXPECT_EQ(*confirmed, generic->recovery_id);
    ++tally->table_confirmed;
  }
}

// Runs one Wycheproof ECDSA file. Expected results are "valid" (must
// verify) and "invalid" (must not). None of the three secp256k1 files has
// "acceptable" entries (that label marks legacy encodings a library may
// tolerate); should one appear, we require nothing of it beyond not
// crashing, and it is reported as neither valid nor invalid.
WycheproofTally RunWycheproofEcdsa(const std::string& file, Encoding encoding, HighS high_s) {
  nlohmann::json doc = nlohmann::json::parse(ReadVectorFile(file));
  WycheproofTally tally;
  for (const auto& group : doc.at("testGroups")) {
    EXPECT_EQ(group.at("sha").get<std::string>(), "SHA-256");
    const Bytes encoded_key = FromHex(group.at("publicKey").at("uncompressed").get<std::string>());
    auto pub = ParseSecp256k1PublicKey(encoded_key);
    for (const auto& t : group.at("tests")) {
      ++tally.total;
      const int id = t.at("tcId").get<int>();
      const std::string result = t.at("result").get<std::string>();
      const Hash256 digest = Sha256(FromHex(t.at("msg").get<std::string>()));
      const Bytes sig = FromHex(t.at("sig").get<std::string>());
      bool verified = false;
      if (pub.ok()) {
        if (encoding == Encoding::kDer) {
          verified = VerifyEcdsaDer(*pub, digest, sig, high_s);
        } else {
          std::array<uint8_t, 64> rs{};
          verified = ToArray(sig, rs) && VerifyEcdsaWithHighS(*pub, digest, rs, high_s);
          // The default verifier is the strict (low-s) one.
          if (verified && high_s == HighS::kReject) {
            EXPECT_TRUE(VerifyEcdsa(*pub, digest, rs));
          }
          if (sig.size() == rs.size()) {
            CheckKeyTableAgrees(*pub, digest, rs, verified, &tally);
          }
        }
      }
      if (result == "valid") {
        ++tally.valid;
        EXPECT_TRUE(verified) << file << " tcId " << id << ": " << t.at("comment");
      } else if (result == "invalid") {
        ++tally.invalid;
        EXPECT_FALSE(verified) << file << " tcId " << id << ": " << t.at("comment");
      }
    }
  }
  EXPECT_EQ(tally.total, doc.at("numberOfTests").get<int>()) << file;
  return tally;
}

TEST(Secp256k1VectorsTest, WycheproofBitcoinDerLowS) {
  WycheproofTally t =
      RunWycheproofEcdsa("wycheproof/ecdsa_secp256k1_sha256_bitcoin_test.json", Encoding::kDer, HighS::kReject);
  EXPECT_EQ(t.total, 463);
  EXPECT_EQ(t.valid + t.invalid, t.total);
}

TEST(Secp256k1VectorsTest, WycheproofDerHighSAccepted) {
  WycheproofTally t = RunWycheproofEcdsa("wycheproof/ecdsa_secp256k1_sha256_test.json", Encoding::kDer, HighS::kAccept);
  EXPECT_EQ(t.total, 476);
  EXPECT_EQ(t.valid + t.invalid, t.total);
}

TEST(Secp256k1VectorsTest, WycheproofP1363HighSAccepted) {
  WycheproofTally t =
      RunWycheproofEcdsa("wycheproof/ecdsa_secp256k1_sha256_p1363_test.json", Encoding::kP1363, HighS::kAccept);
  // Every signature the generic path gives a recovery id 0/1 is confirmed
  // by the table alone (its R has x = r < n, which is what the table checks).
  EXPECT_GT(t.generic_ok, 0);
  EXPECT_EQ(t.table_confirmed, t.generic_ok);
  EXPECT_EQ(t.total, 252);
  EXPECT_EQ(t.valid + t.invalid, t.total);
}

// Differential check of ParseEcdsaDerSignature against libsecp256k1's own
// secp256k1_ecdsa_signature_parse_der over every Wycheproof DER signature.
// libsecp256k1 "accepts" some malformed integers (negative, wider than 256
// bits, ...) by zeroing r or s, which then can never verify; we reject those
// outright. Everything else must agree exactly, including r||s.
TEST(Secp256k1VectorsTest, DerParserAgreesWithLibsecp256k1) {
  const secp256k1_context* ctx = secp256k1_context_static;
  const std::array<uint8_t, 32> zero{};
  int compared = 0;
  int both_accept = 0;
  int lib_accepts_as_zero = 0;
  for (const char* file :
       {"wycheproof/ecdsa_secp256k1_sha256_test.json", "wycheproof/ecdsa_secp256k1_sha256_bitcoin_test.json"}) {
    nlohmann::json doc = nlohmann::json::parse(ReadVectorFile(file));
    for (const auto& group : doc.at("testGroups")) {
      for (const auto& t : group.at("tests")) {
        ++compared;
        const Bytes der = FromHex(t.at("sig").get<std::string>());
        auto ours = ParseEcdsaDerSignature(der);
        secp256k1_ecdsa_signature sig;
        // libsecp256k1 treats a null input pointer as a caller bug.
        const bool lib_ok = !der.empty() && secp256k1_ecdsa_signature_parse_der(ctx, &sig, der.data(), der.size());
        std::array<uint8_t, 64> lib_rs{};
        if (lib_ok) secp256k1_ecdsa_signature_serialize_compact(ctx, lib_rs.data(), &sig);
        const bool lib_zeroed = std::equal(zero.begin(), zero.end(), lib_rs.begin()) ||
                                std::equal(zero.begin(), zero.end(), lib_rs.begin() + 32);
        SCOPED_TRACE(std::string(file) + " tcId " + std::to_string(t.at("tcId").get<int>()));
        if (ours.ok()) {
          EXPECT_TRUE(lib_ok);
          // libsecp256k1 also zeroes values >= n, which we leave to
          // verification.
          secp256k1_ecdsa_signature in_range;
          if (secp256k1_ecdsa_signature_parse_compact(ctx, &in_range, ours->data())) {
            EXPECT_EQ(lib_rs, *ours);
          }
          ++both_accept;
        } else if (lib_ok) {
          EXPECT_TRUE(lib_zeroed) << "we reject a signature libsecp256k1 parses to nonzero r, s: " << ours.status();
          ++lib_accepts_as_zero;
        }
      }
    }
  }
  EXPECT_EQ(compared, 476 + 463);
  EXPECT_GT(both_accept, 300);
  EXPECT_GT(lib_accepts_as_zero, 0);
}

TEST(Secp256k1VectorsTest, DerParserEdgeCases) {
  const std::string ff32(64, 'f');
  const std::string zero32(64, '0');
  struct Case {
    std::string hex;
    bool ok;
    const char* what;
  };
  const Case cases[] = {
      {"3006020101020101", true, "r = 1, s = 1"},
      {"300702020080020101", true, "leading zero required by the high bit"},
      {"3026022100" + ff32 + "020101", true, "33-byte integer whose value is 256 bits"},
      {"300702020001020101", false, "superfluous leading zero"},
      {"3006020181020101", false, "negative integer"},
      {"300602010102010100", false, "trailing byte after the sequence"},
      {"3007020101020101", false, "sequence length too long"},
      {"3005020101020101", false, "sequence length too short"},
      {"30810602010102010"
       "1",
       false, "long-form length"},
      {"30050200020101", false, "empty integer"},
      {"3006030101020101", false, "wrong tag for r"},
      {"3006020101030101", false, "wrong tag for s"},
      {"30080201010201010201", false, "three integers"},
      {"3003020101", false, "only one integer"},
      {"3026022101" + zero32 + "020101", false, "integer wider than 256 bits"},
      {"", false, "empty"},
      {"31060201010201 01", false, "set instead of sequence"},
  };
  for (const Case& c : cases) {
    std::string hex = c.hex;
    hex.erase(std::remove(hex.begin(), hex.end(), ' '), hex.end());
    auto parsed = ParseEcdsaDerSignature(FromHex(hex));
    EXPECT_EQ(parsed.ok(), c.ok) << c.what << ": " << parsed.status();
  }
  auto parsed = ParseEcdsaDerSignature(FromHex("300702020080020101"));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)[31], 0x80);
  EXPECT_EQ((*parsed)[30], 0x00);
  EXPECT_EQ((*parsed)[63], 0x01);
}

// BIP-340 test-vectors.csv: every signing row must reproduce the exact
// signature from its aux_rand, and every row's verification result must match.
TEST(Secp256k1VectorsTest, Bip340) {
  const std::string csv = ReadVectorFile("bip340/test-vectors.csv");
  std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipWhitespace());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].rfind("index,secret key,public "
                           "key,aux_rand,message,signature,verification result",
                           0),
            0u);
  int rows = 0;
  int signed_rows = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string line = lines[i];
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // The comment column may itself contain commas; only the first seven
    // fields matter here.
    std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits(',', 7));
    ASSERT_GE(f.size(), 7u) << line;
    SCOPED_TRACE("BIP-340 vector " + f[0]);
    ++rows;
    XOnlyPublicKey pub{};
    const bool pub_ok = ToArray(FromHex(f[2]), pub);
    const Bytes message = FromHex(f[4]);
    SchnorrSignature sig{};
    ASSERT_TRUE(ToArray(FromHex(f[5]), sig));
    const bool expected = f[6] == "TRUE";
    ASSERT_TRUE(f[6] == "TRUE" || f[6] == "FALSE");

    if (!f[1].empty()) {
      ++signed_rows;
      SecretBytes key = SecretBytes::CopyFrom(FromHex(f[1]));
      std::array<uint8_t, 32> aux{};
      ASSERT_TRUE(ToArray(FromHex(f[3]), aux));
      auto derived = DeriveXOnlyPublicKey(key);
      ASSERT_TRUE(derived.ok());
      EXPECT_EQ(*derived, pub);
      auto made = SchnorrSignMessageWithAux(key, message, aux);
      ASSERT_TRUE(made.ok()) << made.status();
      EXPECT_EQ(HexEncode(*made), absl::AsciiStrToLower(f[5]));
      if (message.size() == 32) {
        Hash256 msg32;
        std::copy(message.begin(), message.end(), msg32.begin());
        auto made32 = SchnorrSignWithAux(key, msg32, aux);
        ASSERT_TRUE(made32.ok());
        EXPECT_EQ(*made32, *made);
        // With fresh aux randomness the signature differs but still verifies.
        auto fresh = SchnorrSign(key, msg32);
        ASSERT_TRUE(fresh.ok());
        EXPECT_TRUE(SchnorrVerify(pub, message, *fresh));
      }
    }
    EXPECT_EQ(pub_ok && SchnorrVerify(pub, message, sig), expected);
  }
  EXPECT_EQ(rows, 19);
  EXPECT_EQ(signed_rows, 8);
}

// ethers.js accounts: private key -> uncompressed key -> Keccak-256 -> address.
TEST(Secp256k1VectorsTest, EthersAccountsDeriveAddresses) {
  nlohmann::json doc = nlohmann::json::parse(ReadVectorFile("ethereum/ethers-accounts.json"));
  int count = 0;
  for (const auto& v : doc.at("vectors")) {
    SecretBytes key = SecretBytes::CopyFrom(FromHex(v.at("privateKey").get<std::string>()));
    auto pub = DeriveSecp256k1PublicKey(key);
    ASSERT_TRUE(pub.ok()) << v.at("name");
    const Hash256 h = Keccak256(std::span<const uint8_t>(pub->data() + 1, 64));
    EXPECT_EQ(HexEncode0x(std::span<const uint8_t>(h.data() + 12, 20)),
              absl::AsciiStrToLower(v.at("address").get<std::string>()))
        << v.at("name");
    // Round trip through the compressed encoding.
    std::array<uint8_t, 33> compressed;
    compressed[0] = static_cast<uint8_t>(0x02 | ((*pub)[64] & 1));
    std::copy(pub->begin() + 1, pub->begin() + 33, compressed.begin() + 1);
    auto parsed = ParseSecp256k1PublicKey(compressed);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, *pub);
    ++count;
  }
  EXPECT_EQ(count, 259);
}

}  // namespace
}  // namespace sigil::crypto
