#include "chains/ethereum/abi_type.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sigil::eth {
namespace {

using Kind = AbiElementaryType::Kind;
using ::testing::HasSubstr;

TEST(AbiTypeTest, ElementaryTypes) {
  struct Case {
    const char* text;
    Kind kind;
    unsigned size;
    unsigned decimals;
  };
  for (const Case& c : {Case{"address", Kind::kAddress, 0, 0}, Case{"bool", Kind::kBool, 0, 0},
                        Case{"string", Kind::kString, 0, 0}, Case{"bytes", Kind::kBytes, 0, 0},
                        Case{"function", Kind::kFunction, 0, 0}, Case{"uint8", Kind::kUint, 8, 0},
                        Case{"uint256", Kind::kUint, 256, 0}, Case{"int128", Kind::kInt, 128, 0},
                        Case{"bytes1", Kind::kFixedBytes, 1, 0}, Case{"bytes32", Kind::kFixedBytes, 32, 0},
                        Case{"fixed128x18", Kind::kFixed, 128, 18}, Case{"ufixed8x80", Kind::kUfixed, 8, 80}}) {
    auto t = ParseAbiElementaryType(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status();
    EXPECT_EQ(t->kind, c.kind) << c.text;
    EXPECT_EQ(t->size, c.size) << c.text;
    EXPECT_EQ(t->decimals, c.decimals) << c.text;
  }
}

TEST(AbiTypeTest, NonCanonicalElementaryTypesAreRefused) {
  for (const char* bad : {"", "adress", "Address", "uint7", "uint257", "uint0", "uint08", "int12", "bytes0", "bytes33",
                          "bytes01", "fixed7x1", "fixed128x81", "fixed128x0", "fixed128", "uint2560", "tuple"}) {
    EXPECT_FALSE(ParseAbiElementaryType(bad).ok()) << bad;
  }
  EXPECT_THAT(std::string(ParseAbiElementaryType("uint7").status().message()), HasSubstr("8 to 256 in steps of 8"));
  EXPECT_THAT(std::string(ParseAbiElementaryType("bytes33").status().message()), HasSubstr("1 to 32"));
  // An alias names its canonical type.
  EXPECT_THAT(std::string(ParseAbiElementaryType("uint").status().message()), HasSubstr("uint256"));
  EXPECT_THAT(std::string(ParseAbiElementaryType("byte").status().message()), HasSubstr("bytes1"));
}

TEST(AbiTypeTest, ParameterLists) {
  for (const char* ok : {"()", "(uint256)", "(address,uint256)", "(uint256[2][],address[3])", "((uint256,address)[],bool)",
                         "(((bytes32,uint8),string))", "(fixed128x18,ufixed8x1,function)"}) {
    EXPECT_TRUE(CheckAbiParameterList(ok).ok()) << ok << ": " << CheckAbiParameterList(ok);
  }
  for (const char* bad : {"", "uint256", "(", "(,)", "(uint256,)", "(uint256))", "(())", "(uint256[0])", "(uint256[01])",
                          "(uint256[)", "((uint256)", "(address payable)", "(uint)", "(uint256) ", "(uint256"}) {
    EXPECT_FALSE(CheckAbiParameterList(bad).ok()) << bad;
  }
  std::string deep = std::string(40, '(') + "uint8" + std::string(40, ')');
  EXPECT_THAT(std::string(CheckAbiParameterList(deep).message()), HasSubstr("nested too deeply"));
}

}  // namespace
}  // namespace sigil::eth
