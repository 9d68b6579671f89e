#include "base/json_duplicates.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace sigil {
namespace {

using ::testing::HasSubstr;

TEST(JsonDuplicatesTest, NoneInOrdinaryDocuments) {
  for (const char* text : {"{}", "[]", "1", "\"x\"", R"({"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]})",
                           R"([{"id":1,"method":"m"},{"id":2,"method":"m"}])", R"({"a":{"b":1},"b":{"a":1}})"}) {
    EXPECT_TRUE(FindDuplicateKeys(text).empty()) << text;
    EXPECT_FALSE(ParseNotingDuplicates(text).doc.is_discarded()) << text;
  }
}

TEST(JsonDuplicatesTest, FindsThemAtEveryDepthAfterUnescaping) {
  auto d = FindDuplicateKeys(R"({"to":"0x1","value":1,"to":"0x2"})");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].key, "to");
  EXPECT_EQ(d[0].depth, 1u);
  EXPECT_EQ(d[0].root_index, 0u);

  d = FindDuplicateKeys(R"({"method":"m","params":[{"a":1,"\u0061":2}]})");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].key, "a");
  EXPECT_EQ(d[0].depth, 3u);

  d = FindDuplicateKeys(R"({"x":{"y":{"z":1,"z":2}}})");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_THAT(DuplicateKeyMessage(d[0], "the body"), HasSubstr("the body has a duplicate key \"z\""));
}

TEST(JsonDuplicatesTest, NamesTheRootArrayElement) {
  auto d = FindDuplicateKeys(R"([1, {"a":1}, [{"b":1,"b":2}], {"c":1,"c":2,"d":1,"d":2}, {"e":{"f":1,"f":1}}])");
  ASSERT_EQ(d.size(), 3u);  // the first of each element only
  EXPECT_EQ(d[0].key, "b");
  EXPECT_EQ(d[0].root_index, 2u);
  EXPECT_EQ(d[0].depth, 3u);
  EXPECT_EQ(d[1].key, "c");
  EXPECT_EQ(d[1].root_index, 3u);
  EXPECT_EQ(d[1].depth, 2u);
  EXPECT_EQ(d[2].key, "f");
  EXPECT_EQ(d[2].root_index, 4u);
  EXPECT_EQ(d[2].depth, 3u);
}

TEST(JsonDuplicatesTest, LongNamesAreCutAndInvalidTextHasNone) {
  const std::string name(300, 'k');
  auto d = FindDuplicateKeys("{\"" + name + "\":1,\"" + name + "\":2}");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].key.size(), 64u);
  auto invalid = ParseNotingDuplicates(R"({"a":1,"a":2,)");
  EXPECT_TRUE(invalid.doc.is_discarded());
  EXPECT_TRUE(invalid.duplicates.empty());
  EXPECT_TRUE(FindDuplicateKeys("").empty());
}

// The call object's own repeated member wins over one nested in it, even
// when the nested one comes first: the caller answers by where it is.
TEST(JsonDuplicatesTest, TheShallowestRepeatIsTheOneNoted) {
  auto d = FindDuplicateKeys(R"({"params":[{"a":1,"a":2}],"id":1,"id":2})");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].key, "id");
  EXPECT_EQ(d[0].depth, 1u);
  d = FindDuplicateKeys(R"([{"p":{"x":{"b":1,"b":2}},"p":{"c":1,"c":1}}, {"q":[{"r":1,"r":1}],"q":2}])");
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].key, "p");
  EXPECT_EQ(d[0].depth, 2u);
  EXPECT_EQ(d[1].key, "q");
  EXPECT_EQ(d[1].root_index, 1u);
}

// Linear in the text: a body of many small objects (nlohmann's parser
// callback made this quadratic, minutes for 1 MiB). The bound is generous,
// ten times what a slow sanitizer build needs; quadratic work misses it by far.
TEST(JsonDuplicatesTest, ManySmallObjectsParseInLinearTime) {
  std::string array = "[";
  std::string object = "{";
  for (int i = 0; i < 150000; ++i) {
    array += i ? ",{}" : "{}";
    object += (i ? ",\"" : "\"") + std::to_string(i) + "\":{}";
  }
  array += "]";
  object += "}";
  const auto start = std::chrono::steady_clock::now();
  auto a = ParseNotingDuplicates(array);
  auto o = ParseNotingDuplicates(object);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(a.doc.size(), 150000u);
  EXPECT_EQ(o.doc.size(), 150000u);
  EXPECT_LT(seconds, 20.0);
}

// The parse is the ordinary one (last duplicate wins), so a caller that
// forgets the list still reads what nlohmann would.
TEST(JsonDuplicatesTest, TheDocumentIsParsedAsUsual) {
  auto parsed = ParseNotingDuplicates(R"({"a":1,"b":[true,null,"x"],"a":2})");
  ASSERT_FALSE(parsed.doc.is_discarded());
  EXPECT_EQ(parsed.doc, nlohmann::json::parse(R"({"a":2,"b":[true,null,"x"]})"));
  ASSERT_EQ(parsed.duplicates.size(), 1u);
}

}  // namespace
}  // namespace sigil
