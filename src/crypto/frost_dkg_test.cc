// The FROST DKG against ZcashFoundation/frost's DKG transcripts
// (vectors/frost/zcash-frost-*-vectors_dkg.json): each participant's
// round-one commitment from its polynomial, the others' proofs of knowledge,
// the round-two shares it sends and receives, and its final signing share,
// verifying share and the group key. Then the keys sign.
#include "crypto/frost_dkg.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "crypto/frost.h"
#include "crypto/frost_test_vectors.h"

namespace sigil::crypto::frost {
namespace {

// The public round-one packages of everyone but participant `self`.
std::vector<DkgRound1Package> OthersRound1(const nlohmann::json& v, int self) {
  const Suite suite = SuiteOf(v);
  std::vector<DkgRound1Package> out;
  for (int j = 1; j <= AsInt(v["config"]["MAX_PARTICIPANTS"]); ++j) {
    if (j == self) continue;
    const auto& p = v["inputs"][std::to_string(j)];
    DkgRound1Package package{Id(suite, AsInt(p["identifier"])), {}, FromHex(p["proof_of_knowledge"])};
    for (const auto& c : p["vss_commitments"]) package.commitment.push_back(FromHex(c));
    out.push_back(std::move(package));
  }
  return out;
}

// The round-two packages participant `self` received (from the file).
std::vector<DkgRound2Package> Received(const nlohmann::json& v, int self) {
  const Suite suite = SuiteOf(v);
  std::vector<DkgRound2Package> out;
  for (const auto& [sender, share] : v["inputs"][std::to_string(self)]["signing_shares"].items()) {
    out.push_back(DkgRound2Package{Id(suite, std::stoi(sender)), Id(suite, self), SecretFromHex(share)});
  }
  return out;
}

DkgRound1Output Part1From(const nlohmann::json& v, int self) {
  const auto& p = v["inputs"][std::to_string(self)];
  std::vector<SecretBytes> coefficients;
  coefficients.push_back(SecretFromHex(p["coefficient"]));
  auto r1 = DkgPart1WithPolynomial(Id(SuiteOf(v), self), static_cast<uint16_t>(AsInt(v["config"]["MAX_PARTICIPANTS"])),
                                   SecretFromHex(p["signing_key"]), coefficients);
  EXPECT_TRUE(r1.ok()) << r1.status();
  return *std::move(r1);
}

class FrostDkgVectorTest : public testing::TestWithParam<std::string> {};

TEST_P(FrostDkgVectorTest, EveryParticipantDerivesTheFilesKeys) {
  const nlohmann::json v = LoadFrostVectors(GetParam());
  const Suite suite = SuiteOf(v);
  const int max = AsInt(v["config"]["MAX_PARTICIPANTS"]);
  ASSERT_EQ(AsInt(v["config"]["MIN_PARTICIPANTS"]), 2);
  const Bytes group_key = FromHex(v["inputs"]["verifying_key"]);
  std::vector<KeyPackage> keys;
  for (int i = 1; i <= max; ++i) {
    SCOPED_TRACE("participant " + std::to_string(i));
    const auto& mine = v["inputs"][std::to_string(i)];
    DkgRound1Output r1 = Part1From(v, i);
    ASSERT_EQ(r1.package.commitment.size(), mine["vss_commitments"].size());
    for (size_t k = 0; k < r1.package.commitment.size(); ++k) {
      EXPECT_EQ(HexEncode(r1.package.commitment[k]), mine["vss_commitments"][k]);
    }
    // Part 2 checks the file's proofs of knowledge; the shares sent are
    // what the file says each recipient received.
    const std::vector<DkgRound1Package> others = OthersRound1(v, i);
    auto r2 = DkgPart2(std::move(r1.secret), others);
    ASSERT_TRUE(r2.ok()) << r2.status();
    ASSERT_EQ(r2->packages.size(), static_cast<size_t>(max - 1));
    for (const DkgRound2Package& sent : r2->packages) {
      EXPECT_EQ(sent.sender, Id(suite, i));
      EXPECT_EQ(Hex(sent.signing_share),
                v["inputs"][sent.recipient.ToString()]["signing_shares"][std::to_string(i)]);
    }
    auto result = DkgPart3(r2->secret, others, Received(v, i));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(Hex(result->key_package.signing_share), mine["signing_share"]);
    EXPECT_EQ(HexEncode(result->key_package.verifying_share), mine["verifying_share"]);
    EXPECT_EQ(result->key_package.group_public_key, group_key);
    EXPECT_EQ(result->public_key_package.group_public_key, group_key);
    ASSERT_EQ(result->public_key_package.verifying_shares.size(), static_cast<size_t>(max));
    for (const VerifyingShare& share : result->public_key_package.verifying_shares) {
      EXPECT_EQ(HexEncode(share.element), v["inputs"][share.identifier.ToString()]["verifying_share"]);
    }
    keys.push_back(std::move(result->key_package));
  }

  // The DKG's keys sign (participants 1 and 3) under the file's group key,
  // coordinated with participant 2's public key package.
  auto dkg = DkgPart3(DkgPart2(Part1From(v, 2).secret, OthersRound1(v, 2))->secret, OthersRound1(v, 2), Received(v, 2));
  ASSERT_TRUE(dkg.ok());
  const Bytes message = {'d', 'k', 'g'};
  auto sig = SignTogether({&keys[0], &keys[2]}, dkg->public_key_package, message);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_TRUE(VerifySignature(suite, group_key, message, *sig));
}

TEST_P(FrostDkgVectorTest, BadProofOrShareIsNamed) {
  const nlohmann::json v = LoadFrostVectors(GetParam());
  const Suite suite = SuiteOf(v);
  // Participant 3's proof of knowledge, its mu changed.
  std::vector<DkgRound1Package> others = OthersRound1(v, 1);
  others[1].proof_of_knowledge.back() ^= 0x01;
  auto r2 = DkgPart2(Part1From(v, 1).secret, others);
  EXPECT_EQ(r2.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r2.status().message().find("participant 3"), std::string::npos) << r2.status();
  // Participant 3's proof presented as participant 2's: the challenge
  // binds the identifier.
  others = OthersRound1(v, 1);
  others[0].proof_of_knowledge = others[1].proof_of_knowledge;
  others[0].commitment = others[1].commitment;
  EXPECT_EQ(DkgPart2(Part1From(v, 1).secret, others).status().code(), absl::StatusCode::kFailedPrecondition);
  // Identity or off-curve commitments, a wrong count, a duplicate sender.
  others = OthersRound1(v, 1);
  others[0].commitment[1] = suite == Suite::kEd25519Sha512
                                ? FromHex("0100000000000000000000000000000000000000000000000000000000000000")
                                : Bytes{0x00};
  EXPECT_EQ(DkgPart2(Part1From(v, 1).secret, others).status().code(), absl::StatusCode::kInvalidArgument);
  others = OthersRound1(v, 1);
  others.pop_back();
  EXPECT_EQ(DkgPart2(Part1From(v, 1).secret, others).status().code(), absl::StatusCode::kInvalidArgument);
  others = OthersRound1(v, 1);
  others[1] = others[0];
  EXPECT_EQ(DkgPart2(Part1From(v, 1).secret, others).status().code(), absl::StatusCode::kInvalidArgument);

  // A received share that does not match its sender's commitment.
  others = OthersRound1(v, 1);
  auto good = DkgPart2(Part1From(v, 1).secret, others);
  ASSERT_TRUE(good.ok()) << good.status();
  std::vector<DkgRound2Package> received = Received(v, 1);
  ASSERT_EQ(received[0].sender.ToString(), "2");
  received[0].signing_share = SecretFromHex(v["inputs"]["1"]["signing_share"]);  // a valid scalar, the wrong one
  auto result = DkgPart3(good->secret, others, received);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(result.status().message().find("participant 2"), std::string::npos) << result.status();
  EXPECT_TRUE(DkgPart3(good->secret, others, Received(v, 1)).ok());
}

INSTANTIATE_TEST_SUITE_P(Vectors, FrostDkgVectorTest,
                         testing::Values("zcash-frost-ed25519-vectors_dkg.json",
                                         "zcash-frost-secp256k1-vectors_dkg.json"));

// Round one of a DKG among participants 1..max_signers, all honest.
struct RoundOne {
  std::vector<DkgRound1Secret> secrets;
  std::vector<DkgRound1Package> packages;

  // Every package but that of the participant at index i.
  std::vector<DkgRound1Package> OthersOf(int i) const {
    std::vector<DkgRound1Package> out;
    for (int j = 0; j < static_cast<int>(packages.size()); ++j) {
      if (j != i) out.push_back(packages[j]);
    }
    return out;
  }
};

RoundOne RunRoundOne(Suite suite, int max_signers, int min_signers) {
  RoundOne out;
  for (int i = 1; i <= max_signers; ++i) {
    auto r1 = DkgPart1(Id(suite, i), max_signers, min_signers);
    EXPECT_TRUE(r1.ok()) << r1.status();
    if (!r1.ok()) break;
    out.secrets.push_back(std::move(r1->secret));
    out.packages.push_back(std::move(r1->package));
  }
  return out;
}

class FrostDkgRandomTest : public testing::TestWithParam<Suite> {};

TEST_P(FrostDkgRandomTest, ThreeOfFourAgreeAndSign) {
  const Suite suite = GetParam();
  constexpr int kMax = 4;
  RoundOne one = RunRoundOne(suite, kMax, 3);
  ASSERT_EQ(one.packages.size(), size_t{kMax});
  std::vector<DkgRound2Secret> secrets2;
  std::vector<DkgRound2Package> mail;
  for (int i = 0; i < kMax; ++i) {
    auto r2 = DkgPart2(std::move(one.secrets[i]), one.OthersOf(i));
    ASSERT_TRUE(r2.ok()) << r2.status();
    secrets2.push_back(std::move(r2->secret));
    for (auto& p : r2->packages) mail.push_back(std::move(p));
  }
  std::vector<KeyPackage> keys;
  std::vector<PublicKeyPackage> publics;
  for (int i = 0; i < kMax; ++i) {
    std::vector<DkgRound2Package> inbox;
    for (const DkgRound2Package& p : mail) {
      if (p.recipient == Id(suite, i + 1)) {
        inbox.push_back(DkgRound2Package{p.sender, p.recipient, p.signing_share.Clone()});
      }
    }
    auto result = DkgPart3(secrets2[i], one.OthersOf(i), inbox);
    ASSERT_TRUE(result.ok()) << result.status();
    keys.push_back(std::move(result->key_package));
    publics.push_back(std::move(result->public_key_package));
  }
  for (const PublicKeyPackage& p : publics) {
    EXPECT_EQ(p.group_public_key, publics[0].group_public_key);
    EXPECT_EQ(p.min_signers, 3);
    ASSERT_EQ(p.verifying_shares.size(), publics[0].verifying_shares.size());
    for (size_t k = 0; k < p.verifying_shares.size(); ++k) {
      EXPECT_EQ(p.verifying_shares[k].element, publics[0].verifying_shares[k].element);
    }
  }
  // Participants 4, 2 and 1 sign; participant 3 coordinates.
  const Bytes message = {'m'};
  auto sig = SignTogether({&keys[3], &keys[1], &keys[0]}, publics[2], message);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_TRUE(VerifySignature(suite, publics[0].group_public_key, message, *sig));
}

// Round three must use the round-one packages whose proofs round two
// checked. A participant that hands over a different package in round three
// (here: participant 2 starts afresh and sends the new package with shares
// that match it) would otherwise get a commitment of its choosing into the
// group key unproven: the rogue-key attack the proofs exist to stop.
TEST_P(FrostDkgRandomTest, RoundThreeTakesOnlyThePackagesRoundTwoVerified) {
  const Suite suite = GetParam();
  RoundOne one = RunRoundOne(suite, 3, 2);
  ASSERT_EQ(one.packages.size(), size_t{3});
  auto p1 = DkgPart2(std::move(one.secrets[0]), one.OthersOf(0));
  ASSERT_TRUE(p1.ok()) << p1.status();
  // Participant 2's second round one, then its round two against it.
  auto again = DkgPart1(Id(suite, 2), 3, 2);
  ASSERT_TRUE(again.ok());
  std::vector<DkgRound1Package> others_for_2 = {one.packages[0], one.packages[2]};
  auto p2 = DkgPart2(std::move(again->secret), others_for_2);
  ASSERT_TRUE(p2.ok()) << p2.status();
  auto p3 = DkgPart2(std::move(one.secrets[2]), one.OthersOf(2));
  ASSERT_TRUE(p3.ok()) << p3.status();
  auto share_for_1 = [](const DkgRound2Output& from) {
    for (const DkgRound2Package& p : from.packages) {
      if (p.recipient.ToString() == "1") return DkgRound2Package{p.sender, p.recipient, p.signing_share.Clone()};
    }
    ADD_FAILURE() << "no package for participant 1";
    return DkgRound2Package{from.packages[0].sender, from.packages[0].recipient, from.packages[0].signing_share.Clone()};
  };
  std::vector<DkgRound2Package> inbox;
  inbox.push_back(share_for_1(*p2));
  inbox.push_back(share_for_1(*p3));
  // The swapped package: valid on its own, its shares match it.
  std::vector<DkgRound1Package> swapped = {again->package, one.packages[2]};
  auto result = DkgPart3(p1->secret, swapped, inbox);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  EXPECT_NE(result.status().message().find("differ from those"), std::string::npos) << result.status();
  // The packages round two saw, in another order, are accepted (and then
  // participant 2's share does not match its real commitment).
  std::vector<DkgRound1Package> reordered = {one.packages[2], one.packages[1]};
  auto honest = DkgPart3(p1->secret, reordered, inbox);
  EXPECT_EQ(honest.status().code(), absl::StatusCode::kFailedPrecondition) << honest.status();
  EXPECT_NE(honest.status().message().find("participant 2"), std::string::npos) << honest.status();
}

// Round three's public package costs max_signers * min_signers
// multiplications, about 5 times what round two costs (which checks as many
// commitment elements). Evaluating every participant's commitment at every
// identifier cost max_signers times more: over 40 times round two at 24
// participants, minutes at a hundred.
TEST_P(FrostDkgRandomTest, RoundThreeCostsAFewTimesRoundTwo) {
  const Suite suite = GetParam();
  constexpr int kMax = 24;
  constexpr int kMin = 13;
  RoundOne one = RunRoundOne(suite, kMax, kMin);
  ASSERT_EQ(one.packages.size(), size_t{kMax});
  std::vector<DkgRound2Secret> secrets2;
  std::vector<DkgRound2Package> inbox[2];  // participants 1 and 2
  // A cost ratio, not a speed goal: round two's slowest run against round
  // three's fastest of two, so a stall of the (shared, busy) machine during
  // one measurement cannot make the sum-first evaluation look cubic; the
  // per-participant evaluation it replaced measured 45-62x.
  std::chrono::steady_clock::duration round2_time{};
  for (int i = 0; i < kMax; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto r2 = DkgPart2(std::move(one.secrets[i]), one.OthersOf(i));
    round2_time = std::max(round2_time, std::chrono::steady_clock::now() - start);
    ASSERT_TRUE(r2.ok()) << r2.status();
    secrets2.push_back(std::move(r2->secret));
    for (auto& p : r2->packages) {
      for (int k = 0; k < 2; ++k) {
        if (p.recipient == Id(suite, k + 1)) inbox[k].push_back(std::move(p));
      }
    }
  }
  auto start = std::chrono::steady_clock::now();
  auto first = DkgPart3(secrets2[0], one.OthersOf(0), inbox[0]);
  auto round3_time = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(first.ok()) << first.status();
  start = std::chrono::steady_clock::now();
  auto second = DkgPart3(secrets2[1], one.OthersOf(1), inbox[1]);
  round3_time = std::min(round3_time, std::chrono::steady_clock::now() - start);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_LT(round3_time, 15 * round2_time)
      << std::chrono::duration<double>(round3_time).count() << " s against "
      << std::chrono::duration<double>(round2_time).count() << " s";
  // Both derive the same public package, and it holds participant 2's own
  // verifying share.
  EXPECT_EQ(first->public_key_package.group_public_key, second->public_key_package.group_public_key);
  ASSERT_EQ(first->public_key_package.verifying_shares.size(), size_t{kMax});
  EXPECT_EQ(first->public_key_package.verifying_shares[1].identifier, Id(suite, 2));
  EXPECT_EQ(first->public_key_package.verifying_shares[1].element, second->key_package.verifying_share);
  for (size_t k = 0; k < kMax; ++k) {
    EXPECT_EQ(first->public_key_package.verifying_shares[k].element,
              second->public_key_package.verifying_shares[k].element);
  }
}

INSTANTIATE_TEST_SUITE_P(Suites, FrostDkgRandomTest, testing::Values(Suite::kEd25519Sha512, Suite::kSecp256k1Sha256));

}  // namespace
}  // namespace sigil::crypto::frost
