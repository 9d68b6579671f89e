#include "audit/checkpoint.h"

#include "audit/audit_testing.h"
#include "audit/checkpoint_signer.h"
#include "gtest/gtest.h"

namespace sigil::audit {
namespace {

SignedCheckpoint Sample(CheckpointSigner& signer) {
  SignedCheckpoint s;
  for (size_t i = 0; i < s.checkpoint.log_id.size(); ++i) s.checkpoint.log_id[i] = static_cast<uint8_t>(i);
  s.checkpoint.tree_size = 10000;
  s.checkpoint.root = crypto::Sha256(AsBytes("root"));
  s.checkpoint.time_ms = 1767225600000;
  s.signature = signer.Sign(AsBytes(CheckpointMessage(s.checkpoint))).value();
  return s;
}

TEST(Checkpoint, MessageFormatIsDocumented) {
  Checkpoint c;
  c.tree_size = 3;
  c.time_ms = 42;
  EXPECT_EQ(CheckpointMessage(c),
            "sigil-audit-checkpoint/v1\n"
            "log 00000000000000000000000000000000\n"
            "size 3\n"
            "root 0000000000000000000000000000000000000000000000000000000000000000\n"
            "time 42\n");
}

TEST(Checkpoint, EncodeParseAndVerify) {
  auto signer = testing::TestSigner();
  auto other = testing::TestSigner(0x07);
  SignedCheckpoint s = Sample(*signer);
  const std::string encoded = EncodeSignedCheckpoint(s);
  auto parsed = ParseSignedCheckpoint(AsBytes(encoded));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, s);
  EXPECT_TRUE(VerifyCheckpointSignature(s, signer->PublicKey()));
  EXPECT_FALSE(VerifyCheckpointSignature(s, other->PublicKey()));
  SignedCheckpoint changed = s;
  changed.checkpoint.tree_size++;
  EXPECT_FALSE(VerifyCheckpointSignature(changed, signer->PublicKey()));
  changed = s;
  changed.checkpoint.root[0] ^= 1;
  EXPECT_FALSE(VerifyCheckpointSignature(changed, signer->PublicKey()));
  changed = s;
  changed.checkpoint.log_id[15] ^= 1;
  EXPECT_FALSE(VerifyCheckpointSignature(changed, signer->PublicKey()));

  auto from_json = SignedCheckpoint::FromJson(s.ToJson());
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  EXPECT_EQ(*from_json, s);
}

TEST(Checkpoint, ParseIsStrict) {
  auto signer = testing::TestSigner();
  const std::string good = EncodeSignedCheckpoint(Sample(*signer));
  auto rejects = [](const std::string& s) { return !ParseSignedCheckpoint(AsBytes(s)).ok(); };
  EXPECT_TRUE(rejects(""));
  EXPECT_TRUE(rejects(good + "x"));
  EXPECT_TRUE(rejects(good.substr(0, good.size() - 1)));
  std::string v2 = good;
  v2.replace(v2.find("v1"), 2, "v2");
  EXPECT_TRUE(rejects(v2));
  std::string upper = good;
  upper.replace(upper.find("root ") + 5, 1, "A");
  EXPECT_TRUE(rejects(upper));
  std::string zero = good;
  zero.replace(zero.find("size ") + 5, 0, "0");
  EXPECT_TRUE(rejects(zero));
  std::string crlf = good;
  crlf.replace(crlf.find('\n'), 1, "\r\n");
  EXPECT_TRUE(rejects(crlf));
}

TEST(Ed25519SeedSigner, RejectsBadSeedAndSignsVerifiably) {
  EXPECT_FALSE(Ed25519SeedSigner::Create(SecretBytes::CopyFrom(Bytes(31, 1))).ok());
  auto signer = testing::TestSigner();
  auto sig = signer->Sign(AsBytes("hello"));
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(crypto::Ed25519Verify(signer->PublicKey(), AsBytes("hello"), *sig));
}

}  // namespace
}  // namespace sigil::audit
