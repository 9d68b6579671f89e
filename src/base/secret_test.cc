#include "base/secret.h"

#include <gtest/gtest.h>

#include <type_traits>

namespace sigil {
namespace {

static_assert(!std::is_copy_constructible_v<SecretBytes>);
static_assert(!std::is_copy_assignable_v<SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);

TEST(SecretBytes, HoldsAndComparesBytes) {
  const uint8_t raw[] = {1, 2, 3, 4, 5};
  SecretBytes a = SecretBytes::CopyFrom(raw);
  SecretBytes b = SecretBytes::CopyFrom(raw);
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a.Reveal(SecretAccess::Get())[4], 5);
  EXPECT_TRUE(a == b);
  b.RevealMutable(SecretAccess::Get())[0] = 9;
  EXPECT_FALSE(a == b);
  EXPECT_FALSE(a == SecretBytes::CopyFrom(std::string_view("\x01\x02")));
}

TEST(SecretBytes, MoveLeavesSourceEmpty) {
  SecretBytes a = SecretBytes::CopyFrom(std::string_view("passphrase"));
  SecretBytes b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the contract under test
  EXPECT_EQ(b.RevealText(SecretAccess::Get()), "passphrase");
  SecretBytes c = b.Clone();
  EXPECT_TRUE(c == b);
}

TEST(SecretBytes, SlotIsWipedWhenFreed) {
  // The arena reuses a freed slot; the next allocation of the same class must
  // see zeros, not the previous secret.
  const uint8_t* seen = nullptr;
  {
    SecretBytes a = SecretBytes::CopyFrom(std::string_view("0123456789abcdef0123456789abcdef"));
    seen = a.Reveal(SecretAccess::Get()).data();
  }
  SecretBytes b = SecretBytes::Zeroed(32);
  if (b.Reveal(SecretAccess::Get()).data() == seen) {
    for (uint8_t byte : b.Reveal(SecretAccess::Get())) EXPECT_EQ(byte, 0);
  }
}

TEST(SecretBytes, LargeSecretsWork) {
  SecretBytes big = SecretBytes::Zeroed(10000);
  big.RevealMutable(SecretAccess::Get())[9999] = 7;
  SecretBytes copy = big.Clone();
  EXPECT_TRUE(copy == big);
}

TEST(ConstantTimeEquals, Basics) {
  const uint8_t a[] = {1, 2, 3};
  const uint8_t b[] = {1, 2, 4};
  EXPECT_TRUE(ConstantTimeEquals(a, a));
  EXPECT_FALSE(ConstantTimeEquals(a, b));
  EXPECT_FALSE(ConstantTimeEquals(a, std::span<const uint8_t>(a, 2)));
}

}  // namespace
}  // namespace sigil
