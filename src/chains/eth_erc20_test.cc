#include "chains/ethereum/erc20.h"

#include <string>

#include "base/hex.h"
#include "chains/ethereum/selector.h"
#include "gtest/gtest.h"

namespace sigil::eth {
namespace {

Bytes H(const std::string& hex) { return *HexDecode(hex); }

const std::string kAlice = "000000000000000000000000a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";
const std::string kBob = "000000000000000000000000000000000000000000000000000000000000dead";

TEST(EthSelector, FromSignatureAndCalldata) {
  EXPECT_EQ(SelectorFromSignature("transfer(address,uint256)"), kErc20TransferSelector);
  EXPECT_EQ(SelectorFromSignature("transferFrom(address,address,uint256)"), kErc20TransferFromSelector);
  EXPECT_EQ(SelectorFromSignature("approve(address,uint256)"), kErc20ApproveSelector);
  EXPECT_EQ(SelectorHex(SelectorFromSignature("balanceOf(address)")), "0x70a08231");
  EXPECT_EQ(FunctionSelector(H("a9059cbb")), kErc20TransferSelector);
  EXPECT_FALSE(FunctionSelector(H("a9059c")).has_value());
  EXPECT_FALSE(FunctionSelector({}).has_value());
}

TEST(EthErc20, DecodesTransfer) {
  auto call = DecodeErc20Call(H("a9059cbb" + kAlice + "00000000000000000000000000000000000000000000000000000000000f4240"));
  ASSERT_TRUE(call.ok()) << call.status();
  ASSERT_TRUE(call->has_value());
  EXPECT_EQ((*call)->method, Erc20Method::kTransfer);
  EXPECT_EQ((*call)->to.ToChecksumHex(), "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48");
  EXPECT_EQ((*call)->amount, Uint256(1000000));
  EXPECT_FALSE((*call)->from.has_value());
  EXPECT_FALSE((*call)->unlimited_approval);
}

TEST(EthErc20, DecodesTransferFrom) {
  auto call = DecodeErc20Call(H("23b872dd" + kAlice + kBob + std::string(62, '0') + "05"));
  ASSERT_TRUE(call.ok()) << call.status();
  ASSERT_TRUE(call->has_value());
  EXPECT_EQ((*call)->method, Erc20Method::kTransferFrom);
  EXPECT_EQ((*call)->from->ToLowerHex(), "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48");
  EXPECT_EQ((*call)->to.ToLowerHex(), "0x000000000000000000000000000000000000dead");
  EXPECT_EQ((*call)->amount, Uint256(5));
}

TEST(EthErc20, ApproveAndUnlimitedRule) {
  auto approve = [](const std::string& amount_word) {
    return DecodeErc20Call(H("095ea7b3" + kBob + amount_word));
  };
  auto max = approve(std::string(64, 'f'));
  ASSERT_TRUE(max.ok() && max->has_value());
  EXPECT_EQ((*max)->method, Erc20Method::kApprove);
  EXPECT_EQ((*max)->amount, Uint256::Max());
  EXPECT_TRUE((*max)->unlimited_approval);
  auto half = approve("8" + std::string(63, '0'));  // exactly 2^255
  EXPECT_TRUE((*half)->unlimited_approval);
  auto below = approve("7" + std::string(63, 'f'));  // 2^255 - 1
  EXPECT_FALSE((*below)->unlimited_approval);
  auto zero = approve(std::string(64, '0'));  // revoking
  EXPECT_FALSE((*zero)->unlimited_approval);
  EXPECT_TRUE(IsUnlimitedApproval(Uint256::Max()));
  EXPECT_FALSE(IsUnlimitedApproval(Uint256(1)));
  // The flag is only set for approve.
  auto transfer = DecodeErc20Call(H("a9059cbb" + kBob + std::string(64, 'f')));
  EXPECT_FALSE((*transfer)->unlimited_approval);
}

TEST(EthErc20, StrictAbi) {
  // Wrong lengths: short, long, trailing byte.
  for (const std::string& data :
       {"a9059cbb" + kAlice, "a9059cbb" + kAlice + kBob + "00", "a9059cbb" + kAlice + kBob + kBob,
        "23b872dd" + kAlice + kBob, std::string("095ea7b3")}) {
    auto r = DecodeErc20Call(H(data));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << data;
    EXPECT_NE(std::string(r.status().message()).find("bytes"), std::string::npos);
  }
  // Dirty high bytes in an address word.
  std::string dirty = "01" + kAlice.substr(2);
  auto r = DecodeErc20Call(H("a9059cbb" + dirty + kBob));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(r.status().message()).find("'to'"), std::string::npos);
  r = DecodeErc20Call(H("23b872dd" + kAlice + dirty + kBob));
  EXPECT_NE(std::string(r.status().message()).find("'to'"), std::string::npos);
  r = DecodeErc20Call(H("095ea7b3" + dirty + kBob));
  EXPECT_NE(std::string(r.status().message()).find("'spender'"), std::string::npos);
}

TEST(EthErc20, OtherCallsAreNotErc20) {
  auto r = DecodeErc20Call(H("70a08231" + kAlice));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  r = DecodeErc20Call({});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  r = DecodeErc20Call(H("a905"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

}  // namespace
}  // namespace sigil::eth
