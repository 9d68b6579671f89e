#include "policy/json_source_map.h"

#include "gtest/gtest.h"

namespace sigil::policy {
namespace {

constexpr char kDoc[] = "{\n  \"a\": [1, {\"b\": \"x\\\"y\"}],\n  \"odd key\": {\"c\": 0.5}\n}";

TEST(JsonSourceMapTest, FindsValuesByPath) {
  auto loc = FindJsonValue(kDoc, "a[1].b");
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->line, 2);
  EXPECT_EQ(loc->column, 18);
  loc = FindJsonValue(kDoc, "[\"odd key\"].c");
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->line, 3);
  EXPECT_EQ(JsonNumberToken(kDoc, loc->offset), "0.5");
  // A missing field is reported at its nearest existing parent.
  loc = FindJsonValue(kDoc, "a[1].missing");
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->column, 12);
  EXPECT_EQ(FindJsonValue(kDoc, "")->line, 1);
}

TEST(JsonSourceMapTest, PathsQuoteOddKeys) {
  EXPECT_EQ(JsonPathKey("", "rules"), "rules");
  EXPECT_EQ(JsonPathKey("lists", "my-list_1"), "lists.my-list_1");
  EXPECT_EQ(JsonPathKey("lists", "a.b"), "lists[\"a.b\"]");
  EXPECT_EQ(JsonPathIndex("rules", 3), "rules[3]");
}

TEST(JsonSourceMapTest, StructureChecks) {
  EXPECT_TRUE(CheckJsonStructure(kDoc, 8).ok());
  EXPECT_FALSE(CheckJsonStructure(kDoc, 2).ok());
  auto st = CheckJsonStructure("{\"a\": 1,\n \"\\u0061\": 2}", 8);  // "a" spelled with an escape
  ASSERT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("duplicate key \"a\""), std::string::npos);
  EXPECT_NE(std::string(st.message()).find("line 2"), std::string::npos);
  EXPECT_TRUE(CheckJsonStructure("[{\"a\": 1}, {\"a\": 2}]", 8).ok());
}

TEST(JsonSourceMapTest, LocateOffset) {
  JsonLocation l = LocateOffset("ab\ncd\nef", 7);
  EXPECT_EQ(l.line, 3);
  EXPECT_EQ(l.column, 2);
}

}  // namespace
}  // namespace sigil::policy
