#include "crypto/known_answers.h"

#include <string>

#include "gtest/gtest.h"

namespace sigil::crypto {
namespace {

TEST(SelfTest, Passes) {
  absl::Status st = RunSelfTest();
  EXPECT_TRUE(st.ok()) << st;
}

class FrostSelfTest : public testing::TestWithParam<const internal::FrostKnownAnswer*> {};

TEST_P(FrostSelfTest, ReproducesTheVector) { EXPECT_TRUE(internal::CheckFrost(*GetParam())); }

// A FROST computation that goes wrong anywhere (a different nonce, share,
// commitment or sum) gives another signature than the recorded one, so the
// self-test fails: each field of the answer changed in one hex digit stands
// for one such fault.
TEST_P(FrostSelfTest, FailsOnAWrongAnswer) {
  using Field = std::string_view internal::FrostKnownAnswer::*;
  const Field fields[] = {
      &internal::FrostKnownAnswer::group_public_key,    &internal::FrostKnownAnswer::signing_share_1,
      &internal::FrostKnownAnswer::hiding_randomness_1, &internal::FrostKnownAnswer::binding_randomness_1,
      &internal::FrostKnownAnswer::hiding_commitment_3, &internal::FrostKnownAnswer::binding_commitment_3,
      &internal::FrostKnownAnswer::signature_share_3,   &internal::FrostKnownAnswer::message,
      &internal::FrostKnownAnswer::signature,
  };
  for (Field field : fields) {
    internal::FrostKnownAnswer wrong = *GetParam();
    std::string hex(wrong.*field);
    // The second-to-last digit: a change that keeps scalars canonical.
    char& digit = hex[hex.size() - 2];
    digit = digit == '0' ? '1' : '0';
    wrong.*field = hex;
    EXPECT_FALSE(internal::CheckFrost(wrong)) << "changed: " << hex;
  }
  internal::FrostKnownAnswer other_suite = *GetParam();
  other_suite.suite =
      other_suite.suite == frost::Suite::kEd25519Sha512 ? frost::Suite::kSecp256k1Sha256 : frost::Suite::kEd25519Sha512;
  EXPECT_FALSE(internal::CheckFrost(other_suite));
}

INSTANTIATE_TEST_SUITE_P(Suites, FrostSelfTest,
                         testing::Values(&internal::kFrostEd25519KnownAnswer, &internal::kFrostSecp256k1KnownAnswer));

}  // namespace
}  // namespace sigil::crypto
