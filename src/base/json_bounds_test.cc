#include "base/json_bounds.h"

#include <gtest/gtest.h>

#include <string>

namespace sigil {
namespace {

TEST(JsonBounds, AcceptsOrdinaryDocuments) {
  EXPECT_TRUE(CheckJsonBounds(R"({"a":[1,2,{"b":"]]]]"}]})").ok());
}

TEST(JsonBounds, RejectsDeepNesting) {
  std::string deep(100000, '[');
  EXPECT_FALSE(CheckJsonBounds(deep).ok());
  std::string ok_depth = std::string(64, '[') + std::string(64, ']');
  EXPECT_TRUE(CheckJsonBounds(ok_depth).ok());
  EXPECT_FALSE(CheckJsonBounds("[" + ok_depth + "]").ok());
}

TEST(JsonBounds, IgnoresBracketsInStringsWithEscapes) {
  std::string s = "[\"\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"]";
  EXPECT_TRUE(CheckJsonBounds(s, {.max_bytes = 1000, .max_depth = 2}).ok());
}

TEST(JsonBounds, RejectsOversized) {
  EXPECT_FALSE(CheckJsonBounds(std::string(2000, ' '), {.max_bytes = 1000, .max_depth = 8}).ok());
}

}  // namespace
}  // namespace sigil
