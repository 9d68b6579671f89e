#include "crypto/known_answers.h"

#include "gtest/gtest.h"

namespace sigil::crypto {
namespace {

TEST(SelfTest, Passes) {
  absl::Status st = RunSelfTest();
  EXPECT_TRUE(st.ok()) << st;
}

}  // namespace
}  // namespace sigil::crypto
