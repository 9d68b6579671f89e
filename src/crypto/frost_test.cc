// FROST (RFC 9591) against the upstream vectors: the RFC's Appendix E.1 and
// E.5 transcripts and the ZcashFoundation/frost ones (other nonce
// randomness; large identifiers). Every intermediate value of each
// transcript is pinned: dealer shares, nonces, commitments, binding factor
// inputs and factors, signature shares, the final signature.
#include "crypto/frost.h"

#include <sodium.h>

#include <string>
#include <type_traits>
#include <vector>

#include "crypto/frost_group.h"
#include "crypto/frost_test_vectors.h"

namespace sigil::crypto::frost {
namespace {

std::array<uint8_t, 32> Array32(const std::string& hex) {
  std::array<uint8_t, 32> out{};
  const Bytes bytes = FromHex(hex);
  EXPECT_EQ(bytes.size(), 32u);
  std::copy_n(bytes.begin(), std::min<size_t>(32, bytes.size()), out.begin());
  return out;
}

// The dealer's output for a vector file (checked against the file's shares).
DealerOutput DealerFor(const nlohmann::json& v) {
  const Suite suite = SuiteOf(v);
  const auto& in = v["inputs"];
  std::vector<SecretBytes> coefficients;
  for (const auto& c : in["share_polynomial_coefficients"]) coefficients.push_back(SecretFromHex(c));
  auto dealer = SplitSecret(suite, SecretFromHex(in["group_secret_key"]), coefficients,
                            static_cast<uint16_t>(AsInt(v["config"]["MAX_PARTICIPANTS"])));
  EXPECT_TRUE(dealer.ok()) << dealer.status();
  return dealer.ok() ? *std::move(dealer) : DealerOutput{};
}

const KeyPackage& PackageOf(const DealerOutput& dealer, const Identifier& id) {
  for (const KeyPackage& kp : dealer.key_packages) {
    if (kp.identifier == id) return kp;
  }
  ADD_FAILURE() << "no key package for " << id.ToString();
  return dealer.key_packages.front();
}

// One signing session from a vector file: the signers' nonces (round one
// outputs' randomness) and commitments.
struct Round {
  std::vector<SigningNonces> nonces;
  std::vector<SigningCommitment> commitments;
};

Round RoundOneOf(const nlohmann::json& v, const DealerOutput& dealer) {
  const Suite suite = SuiteOf(v);
  Round round;
  for (const auto& out : v["round_one_outputs"]["outputs"]) {
    const Identifier id = Id(suite, AsInt(out["identifier"]));
    auto nonces = internal::CommitWithRandomness(PackageOf(dealer, id), Array32(out["hiding_nonce_randomness"]),
                                       Array32(out["binding_nonce_randomness"]));
    EXPECT_TRUE(nonces.ok()) << nonces.status();
    round.commitments.push_back(nonces->commitment());
    round.nonces.push_back(*std::move(nonces));
  }
  return round;
}

class FrostVectorTest : public testing::TestWithParam<std::string> {};

TEST_P(FrostVectorTest, FullTranscript) {
  const nlohmann::json v = LoadFrostVectors(GetParam());
  const Suite suite = SuiteOf(v);
  const auto& in = v["inputs"];
  const Bytes message = FromHex(in["message"]);
  const Bytes group_key = FromHex(in.contains("group_public_key") ? in["group_public_key"] : in["verifying_key_key"]);

  // Trusted dealer: shares and group key.
  const DealerOutput dealer = DealerFor(v);
  ASSERT_EQ(dealer.key_packages.size(), static_cast<size_t>(AsInt(v["config"]["MAX_PARTICIPANTS"])));
  EXPECT_EQ(dealer.public_key_package.group_public_key, group_key);
  for (const auto& share : in["participant_shares"]) {
    const KeyPackage& kp = PackageOf(dealer, Id(suite, AsInt(share["identifier"])));
    EXPECT_EQ(Hex(kp.signing_share), share["participant_share"]) << kp.identifier.ToString();
    EXPECT_TRUE(VerifyShareAgainstCommitment(kp, dealer.vss_commitment).ok());
  }

  // Round one: nonces, commitments, binding factors.
  Round round = RoundOneOf(v, dealer);
  const auto& r1 = v["round_one_outputs"]["outputs"];
  ASSERT_EQ(round.nonces.size(), r1.size());
  auto factors = internal::ComputeBindingFactors(suite, group_key, round.commitments, message);
  ASSERT_TRUE(factors.ok()) << factors.status();
  ASSERT_EQ(factors->size(), r1.size());
  for (size_t i = 0; i < r1.size(); ++i) {
    const SigningNonces& n = round.nonces[i];
    EXPECT_EQ(Hex(n.hiding(SecretAccess::Get())), r1[i]["hiding_nonce"]);
    EXPECT_EQ(Hex(n.binding(SecretAccess::Get())), r1[i]["binding_nonce"]);
    EXPECT_EQ(HexEncode(n.commitment().hiding), r1[i]["hiding_nonce_commitment"]);
    EXPECT_EQ(HexEncode(n.commitment().binding), r1[i]["binding_nonce_commitment"]);
    // The files list signers in ascending order, as the factors are.
    EXPECT_EQ((*factors)[i].identifier, n.commitment().identifier);
    EXPECT_EQ(HexEncode((*factors)[i].input), r1[i]["binding_factor_input"]);
    EXPECT_EQ(HexEncode((*factors)[i].factor.bytes), r1[i]["binding_factor"]);
  }

  // Round two: shares, each checked by the coordinator.
  std::vector<SignatureShare> shares;
  const auto& r2 = v["round_two_outputs"]["outputs"];
  for (size_t i = 0; i < round.nonces.size(); ++i) {
    const KeyPackage& kp = PackageOf(dealer, round.commitments[i].identifier);
    auto share = Sign(kp, std::move(round.nonces[i]), message, round.commitments);
    ASSERT_TRUE(share.ok()) << share.status();
    EXPECT_EQ(AsInt(r2[i]["identifier"]), AsInt(r1[i]["identifier"]));
    EXPECT_EQ(HexEncode(share->share), r2[i]["sig_share"]);
    EXPECT_TRUE(VerifySignatureShare(dealer.public_key_package, round.commitments, message, *share).ok());
    shares.push_back(*std::move(share));
  }

  // Aggregation, in the other order (order of shares does not matter).
  std::vector<SignatureShare> reversed(shares.rbegin(), shares.rend());
  auto sig = Aggregate(dealer.public_key_package, round.commitments, message, reversed);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(HexEncode(*sig), v["final_output"]["sig"]);
  EXPECT_TRUE(VerifySignature(suite, group_key, message, *sig));
  if (suite == Suite::kEd25519Sha512) {
    // A FROST(Ed25519) signature is a plain Ed25519 signature.
    ASSERT_EQ(sig->size(), 64u);
    EXPECT_EQ(crypto_sign_verify_detached(sig->data(), message.data(), message.size(), group_key.data()), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Vectors, FrostVectorTest,
                         testing::Values("frost-ed25519-sha512.cfrg-draft.json", "zcash-frost-ed25519-vectors.json",
                                         "zcash-frost-ed25519-vectors-big-identifier.json",
                                         "frost-secp256k1-sha256.cfrg-draft.json",
                                         "zcash-frost-secp256k1-vectors.json",
                                         "zcash-frost-secp256k1-vectors-big-identifier.json"));

// --- Negative tests, on the RFC transcripts ---------------------------------

class FrostNegativeTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    v_ = LoadFrostVectors(GetParam());
    suite_ = SuiteOf(v_);
    message_ = FromHex(v_["inputs"]["message"]);
    dealer_ = DealerFor(v_);
  }
  // Fresh round one (same randomness) and the honest shares.
  std::vector<SignatureShare> HonestShares(Round& round) {
    std::vector<SignatureShare> shares;
    for (size_t i = 0; i < round.nonces.size(); ++i) {
      auto share = Sign(PackageOf(dealer_, round.commitments[i].identifier), std::move(round.nonces[i]), message_,
                        round.commitments);
      EXPECT_TRUE(share.ok()) << share.status();
      shares.push_back(*std::move(share));
    }
    return shares;
  }
  // An element of the group that is valid but belongs to nobody here.
  Bytes OtherElement() const {
    internal::Scalar seven = internal::GroupFor(suite_).ScalarFromUint64(7);
    return *internal::GroupFor(suite_).BaseMul(seven);
  }
  const PublicKeyPackage& Public() const { return dealer_.public_key_package; }

  nlohmann::json v_;
  Suite suite_ = Suite::kEd25519Sha512;
  Bytes message_;
  DealerOutput dealer_;
};

TEST_P(FrostNegativeTest, TamperedShareIsNamed) {
  Round round = RoundOneOf(v_, dealer_);
  std::vector<SignatureShare> shares = HonestShares(round);
  // Participant 3's share, changed in its least significant byte (stays canonical).
  SignatureShare& bad = shares[1];
  ASSERT_EQ(bad.identifier.ToString(), "3");
  bad.share[suite_ == Suite::kEd25519Sha512 ? 0 : 31] ^= 0x01;
  absl::Status s = VerifySignatureShare(Public(), round.commitments, message_, bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("participant 3"), std::string::npos) << s;
  EXPECT_TRUE(VerifySignatureShare(Public(), round.commitments, message_, shares[0]).ok());
  auto sig = Aggregate(Public(), round.commitments, message_, shares);
  ASSERT_FALSE(sig.ok());
  EXPECT_EQ(sig.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(sig.status().message().find("participants 3"), std::string::npos) << sig.status();
}

TEST_P(FrostNegativeTest, WrongMessageOrCommitmentFailsVerification) {
  Round round = RoundOneOf(v_, dealer_);
  const std::vector<SignatureShare> shares = HonestShares(round);
  auto sig = Aggregate(Public(), round.commitments, message_, shares);
  ASSERT_TRUE(sig.ok()) << sig.status();
  const Bytes& key = Public().group_public_key;
  Bytes other_message = message_;
  other_message.back() ^= 0x20;
  EXPECT_FALSE(VerifySignature(suite_, key, other_message, *sig));
  // The coordinator aggregating for another message: every share is wrong.
  auto wrong = Aggregate(Public(), round.commitments, other_message, shares);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(wrong.status().message().find("participants 1, 3"), std::string::npos) << wrong.status();
  // A signature with R swapped for another commitment does not verify.
  Bytes forged = *sig;
  const Bytes other = OtherElement();
  std::copy(other.begin(), other.end(), forged.begin());
  EXPECT_FALSE(VerifySignature(suite_, key, message_, forged));
  // A share made over a commitment list the coordinator did not send.
  Round again = RoundOneOf(v_, dealer_);
  std::vector<SigningCommitment> altered = again.commitments;
  altered[0].binding = OtherElement();
  auto share3 = Sign(PackageOf(dealer_, again.commitments[1].identifier), std::move(again.nonces[1]), message_, altered);
  ASSERT_TRUE(share3.ok()) << share3.status();
  auto share1 = Sign(PackageOf(dealer_, again.commitments[0].identifier), std::move(again.nonces[0]), message_,
                     again.commitments);
  ASSERT_TRUE(share1.ok());
  const SignatureShare mixed[] = {*share1, *share3};
  auto bad = Aggregate(Public(), again.commitments, message_, mixed);
  EXPECT_NE(bad.status().message().find("participants 3"), std::string::npos) << bad.status();
}

TEST_P(FrostNegativeTest, SignRefusesBadCommitmentLists) {
  Round round = RoundOneOf(v_, dealer_);
  const KeyPackage& p1 = PackageOf(dealer_, round.commitments[0].identifier);
  auto sign = [&](const std::vector<SigningCommitment>& list) {
    Round fresh = RoundOneOf(v_, dealer_);
    return Sign(p1, std::move(fresh.nonces[0]), message_, list).status();
  };
  // Duplicate identifier.
  std::vector<SigningCommitment> dup = round.commitments;
  dup.push_back(round.commitments[0]);
  EXPECT_NE(sign(dup).message().find("more than one commitment"), std::string::npos) << sign(dup);
  // Own commitment missing, or replaced.
  EXPECT_FALSE(sign({round.commitments[1]}).ok());
  std::vector<SigningCommitment> swapped = round.commitments;
  swapped[0].hiding = OtherElement();
  EXPECT_NE(sign(swapped).message().find("another commitment"), std::string::npos) << sign(swapped);
  // Fewer commitments than min_signers.
  EXPECT_FALSE(sign({round.commitments[0]}).ok());
  // Nonces of participant 3 with participant 1's key package.
  Round fresh = RoundOneOf(v_, dealer_);
  EXPECT_FALSE(Sign(p1, std::move(fresh.nonces[1]), message_, round.commitments).ok());
  // Another ciphersuite's identifier.
  const Suite other = suite_ == Suite::kEd25519Sha512 ? Suite::kSecp256k1Sha256 : Suite::kEd25519Sha512;
  std::vector<SigningCommitment> foreign = round.commitments;
  foreign[1].identifier = Id(other, 3);
  EXPECT_FALSE(sign(foreign).ok());
  // The honest list still works.
  EXPECT_TRUE(sign(round.commitments).ok());
}

TEST_P(FrostNegativeTest, RefusesInvalidAndIdentityElements) {
  Round round = RoundOneOf(v_, dealer_);
  const internal::Group& g = internal::GroupFor(suite_);
  std::vector<Bytes> bad;
  if (suite_ == Suite::kEd25519Sha512) {
    bad.push_back(FromHex("0100000000000000000000000000000000000000000000000000000000000000"));  // identity
    bad.push_back(Bytes(32, 0));  // small order (0, -1)... not in the prime-order group
    // A y with no x on the curve.
    Bytes off(32, 0);
    const Bytes base = *g.BaseMul(g.ScalarFromUint64(1));
    Bytes sum(32);
    for (off[0] = 2; crypto_core_ed25519_add(sum.data(), off.data(), base.data()) == 0; ++off[0]) {
    }
    bad.push_back(off);
  } else {
    bad.push_back(Bytes{0x00});                                                                      // identity
    bad.push_back(FromHex("020000000000000000000000000000000000000000000000000000000000000000"));  // x = 0: off curve
    Bytes uncompressed = FromHex("04");
    const Bytes g1 = *g.BaseMul(g.ScalarFromUint64(1));
    uncompressed.insert(uncompressed.end(), g1.begin() + 1, g1.end());
    uncompressed.resize(65, 0);
    bad.push_back(uncompressed);  // not the compressed encoding
  }
  bad.push_back(Bytes(g.ElementSize() - 1, 0x02));  // truncated
  for (const Bytes& element : bad) {
    SCOPED_TRACE(HexEncode(element));
    EXPECT_FALSE(g.ValidateElement(element).ok());
    std::vector<SigningCommitment> list = round.commitments;
    list[1].hiding = element;
    Round fresh = RoundOneOf(v_, dealer_);
    absl::Status s = Sign(PackageOf(dealer_, list[0].identifier), std::move(fresh.nonces[0]), message_, list).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("participant 3"), std::string::npos) << s;
    EXPECT_FALSE(VerifySignature(suite_, element, message_, Bytes(g.ElementSize() + 32, 1)));
  }
}

TEST_P(FrostNegativeTest, IdentifiersMustBeNonzeroCanonicalScalars) {
  EXPECT_FALSE(Identifier::FromInteger(suite_, 0).ok());
  EXPECT_FALSE(Identifier::Parse(suite_, Bytes(32, 0)).ok());
  EXPECT_FALSE(Identifier::Parse(suite_, Bytes(32, 0xff)).ok());  // above the group order
  EXPECT_FALSE(Identifier::Parse(suite_, Bytes(31, 1)).ok());
  const Identifier id1 = Id(suite_, 1);
  const Bytes one_encoded(id1.bytes().begin(), id1.bytes().end());
  auto one = Identifier::Parse(suite_, one_encoded);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, Id(suite_, 1));
  // Numeric order, also across byte boundaries of the little-endian encoding.
  EXPECT_TRUE(Id(suite_, 129) < Id(suite_, 256));
  EXPECT_TRUE(Id(suite_, 256) < Id(suite_, 257));
  EXPECT_EQ(Id(suite_, 257).ToString(), "257");
}

// Nonces are single-use: they cannot be copied, and Sign takes them by value.
static_assert(!std::is_copy_constructible_v<SigningNonces>);
static_assert(!std::is_copy_assignable_v<SigningNonces>);
static_assert(!std::is_copy_constructible_v<KeyPackage>);

TEST_P(FrostNegativeTest, ErrorsDoNotCarrySecrets) {
  // A signing share that is not a canonical scalar (above the group order),
  // with bytes distinctive enough to find in any rendering.
  const Bytes bad = FromHex("ffffffffffffffffffffffffffffffffcafebeef0123456789abcdeffeedface");
  KeyPackage kp{suite_, Id(suite_, 1), SecretBytes::CopyFrom(bad), dealer_.key_packages[0].verifying_share,
                dealer_.public_key_package.group_public_key, 2};
  const std::array<uint8_t, 32> randomness{};
  std::vector<absl::Status> errors = {Commit(kp).status(), internal::CommitWithRandomness(kp, randomness, randomness).status(),
                                      VerifyShareAgainstCommitment(kp, dealer_.vss_commitment)};
  Round round = RoundOneOf(v_, dealer_);
  errors.push_back(Sign(kp, std::move(round.nonces[0]), message_, round.commitments).status());
  const std::vector<SecretBytes> coefficients = [&] {
    std::vector<SecretBytes> c;
    c.push_back(SecretBytes::CopyFrom(bad));
    return c;
  }();
  errors.push_back(SplitSecret(suite_, SecretFromHex(v_["inputs"]["group_secret_key"]), coefficients, 3).status());
  errors.push_back(SplitSecret(suite_, SecretBytes::CopyFrom(bad), {}, 3).status());
  const std::string hex = HexEncode(bad);
  for (const absl::Status& s : errors) {
    ASSERT_FALSE(s.ok());
    const std::string text = s.ToString();
    for (size_t i = 0; i + 16 <= hex.size(); i += 2) EXPECT_EQ(text.find(hex.substr(i, 16)), std::string::npos) << text;
    EXPECT_EQ(text.find(std::string(bad.begin() + 16, bad.begin() + 24)), std::string::npos);
  }
}

TEST_P(FrostNegativeTest, DealerRefusesBadParameters) {
  // A coefficient that is not a canonical scalar, and the error does not
  // carry its bytes.
  const Bytes big(32, 0xff);
  const std::vector<SecretBytes> coefficients = [&] {
    std::vector<SecretBytes> c;
    c.push_back(SecretBytes::CopyFrom(big));
    return c;
  }();
  auto dealer = SplitSecret(suite_, SecretFromHex(v_["inputs"]["group_secret_key"]), coefficients, 3);
  ASSERT_FALSE(dealer.ok());
  EXPECT_EQ(dealer.status().message().find("ffffffff"), std::string::npos);
  // min_signers > max_signers, and min_signers 1.
  EXPECT_FALSE(TrustedDealerKeygen(suite_, 2, 3).ok());
  EXPECT_FALSE(TrustedDealerKeygen(suite_, 3, 1).ok());
  EXPECT_FALSE(TrustedDealerKeygen(suite_, kMaxParticipants + 1, 2).ok());
  // A share that does not match the commitment.
  DealerOutput d = DealerFor(v_);
  std::swap(d.key_packages[0].signing_share, d.key_packages[1].signing_share);
  EXPECT_EQ(VerifyShareAgainstCommitment(d.key_packages[0], d.vss_commitment).code(),
            absl::StatusCode::kFailedPrecondition);
  // A package naming another dealer run's group key: its share matches the
  // commitment it came with, but cannot sign for the key it shows.
  DealerOutput ours = DealerFor(v_);
  auto other = TrustedDealerKeygen(suite_, 3, 2);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(VerifyShareAgainstCommitment(ours.key_packages[0], ours.vss_commitment).ok());
  ours.key_packages[0].group_public_key = other->key_packages[0].group_public_key;
  auto shown = VerifyShareAgainstCommitment(ours.key_packages[0], ours.vss_commitment);
  EXPECT_EQ(shown.code(), absl::StatusCode::kFailedPrecondition) << shown;
  EXPECT_NE(shown.message().find("group public key"), std::string::npos) << shown;
  // Shares of a polynomial of a higher degree than the package's
  // min_signers can interpolate: each share matches the commitment, but
  // min_signers of them cannot sign.
  auto deeper = TrustedDealerKeygen(suite_, 4, 3);
  ASSERT_TRUE(deeper.ok());
  KeyPackage& claims_two = deeper->key_packages[0];
  ASSERT_TRUE(VerifyShareAgainstCommitment(claims_two, deeper->vss_commitment).ok());
  claims_two.min_signers = 2;
  auto short_count = VerifyShareAgainstCommitment(claims_two, deeper->vss_commitment);
  EXPECT_EQ(short_count.code(), absl::StatusCode::kFailedPrecondition) << short_count;
  EXPECT_NE(short_count.message().find("min_signers 2"), std::string::npos) << short_count;
}

INSTANTIATE_TEST_SUITE_P(Rfc, FrostNegativeTest,
                         testing::Values("frost-ed25519-sha512.cfrg-draft.json",
                                         "frost-secp256k1-sha256.cfrg-draft.json"));

// --- Random end-to-end ---------------------------------------------------------

class FrostRandomTest : public testing::TestWithParam<Suite> {};

TEST_P(FrostRandomTest, ThreeOfFiveSignsWithFreshNonces) {
  const Suite suite = GetParam();
  auto dealer = TrustedDealerKeygen(suite, 5, 3);
  ASSERT_TRUE(dealer.ok()) << dealer.status();
  for (const KeyPackage& kp : dealer->key_packages) {
    EXPECT_TRUE(VerifyShareAgainstCommitment(kp, dealer->vss_commitment).ok());
  }
  const Bytes message = {'s', 'i', 'g', 'i', 'l'};
  const std::vector<KeyPackage>& keys = dealer->key_packages;
  // Unsorted on purpose.
  auto sig = SignTogether({&keys[4], &keys[1], &keys[3]}, dealer->public_key_package, message);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_TRUE(VerifySignature(suite, dealer->public_key_package.group_public_key, message, *sig));
  // Two signers are not enough.
  auto refused = SignTogether({&keys[4], &keys[1]}, dealer->public_key_package, message);
  EXPECT_NE(refused.status().message().find("fewer than min_signers"), std::string::npos) << refused.status();
  EXPECT_EQ(dealer->public_key_package.min_signers, 3);
}

// A coordinator given too few shares says so, rather than aggregating a
// signature that cannot verify and naming honest participants as culprits.
TEST_P(FrostRandomTest, CoordinatorRefusesFewerThanMinSigners) {
  const Suite suite = GetParam();
  auto dealer = TrustedDealerKeygen(suite, 5, 3);
  ASSERT_TRUE(dealer.ok()) << dealer.status();
  const Bytes message = {'s', 'i', 'g', 'i', 'l'};
  // Two signers' round one; their round two would refuse the session, so the
  // shares are made up: the coordinator must stop before looking at them.
  std::vector<SigningCommitment> commitments;
  std::vector<SignatureShare> shares;
  for (size_t k : {0, 2}) {
    auto nonces = Commit(dealer->key_packages[k]);
    ASSERT_TRUE(nonces.ok()) << nonces.status();
    commitments.push_back(nonces->commitment());
    Bytes z(32, 0);
    z[suite == Suite::kEd25519Sha512 ? 0 : 31] = 1;
    shares.push_back({dealer->key_packages[k].identifier, z});
  }
  auto sig = Aggregate(dealer->public_key_package, commitments, message, shares);
  EXPECT_EQ(sig.status().code(), absl::StatusCode::kInvalidArgument) << sig.status();
  EXPECT_NE(sig.status().message().find("fewer than min_signers (3)"), std::string::npos) << sig.status();
  // An unknown threshold (0) is not checked: the old behaviour, culprits named.
  PublicKeyPackage unknown = dealer->public_key_package;
  unknown.min_signers = 0;
  auto blamed = Aggregate(unknown, commitments, message, shares);
  EXPECT_EQ(blamed.status().code(), absl::StatusCode::kFailedPrecondition) << blamed.status();
}

INSTANTIATE_TEST_SUITE_P(Suites, FrostRandomTest, testing::Values(Suite::kEd25519Sha512, Suite::kSecp256k1Sha256));

}  // namespace
}  // namespace sigil::crypto::frost
