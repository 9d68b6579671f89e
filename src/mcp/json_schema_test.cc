#include "mcp/json_schema.h"

#include <gtest/gtest.h>

namespace sigil::mcp {
namespace {

using nlohmann::json;

TEST(JsonSchemaTest, TypesIncludingIntegerAndUnions) {
  EXPECT_TRUE(CheckAgainstSchema(json(3), {{"type", "integer"}}).ok());
  EXPECT_TRUE(CheckAgainstSchema(json(3.0), {{"type", "integer"}}).ok());  // as Ajv: 3.0 is an integer
  EXPECT_FALSE(CheckAgainstSchema(json(3.5), {{"type", "integer"}}).ok());
  EXPECT_TRUE(CheckAgainstSchema(json(3.5), {{"type", "number"}}).ok());
  EXPECT_TRUE(CheckAgainstSchema(json("x"), {{"type", json::array({"string", "integer"})}}).ok());
  absl::Status st = CheckAgainstSchema(json(1.5), {{"type", json::array({"string", "integer"})}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(std::string(st.message()), "/: expected string or integer, got number");
  EXPECT_FALSE(CheckAgainstSchema(json(nullptr), {{"type", "object"}}).ok());
  EXPECT_TRUE(CheckAgainstSchema(json(nullptr), json::object()).ok());
}

TEST(JsonSchemaTest, ObjectsRequiredAdditionalAndPointers) {
  json schema = {{"type", "object"},
                 {"properties", {{"a", {{"type", "string"}}}, {"b/c", {{"type", "object"}, {"properties", {{"d", {{"type", "integer"}}}}}}}}},
                 {"required", json::array({"a"})},
                 {"additionalProperties", false}};
  EXPECT_TRUE(CheckAgainstSchema({{"a", "x"}}, schema).ok());
  absl::Status missing = CheckAgainstSchema(json::object(), schema);
  EXPECT_EQ(std::string(missing.message()), "/: missing required member \"a\"");
  absl::Status extra = CheckAgainstSchema({{"a", "x"}, {"amount", 1}}, schema);
  EXPECT_EQ(std::string(extra.message()), "/: unknown member \"amount\" (known members: a, b/c)");
  absl::Status nested = CheckAgainstSchema({{"a", "x"}, {"b/c", {{"d", "no"}}}}, schema);
  EXPECT_EQ(std::string(nested.message()), "/b~1c/d: expected integer, got string");
}

TEST(JsonSchemaTest, ItemsEnumMinLengthMinimumAnyOf) {
  json items = {{"type", "array"}, {"items", {{"type", "string"}, {"enum", json::array({"x", "y"})}}}};
  EXPECT_TRUE(CheckAgainstSchema(json::array({"x", "y", "x"}), items).ok());
  EXPECT_EQ(std::string(CheckAgainstSchema(json::array({"x", "z"}), items).message()), "/1: must be one of \"x\", \"y\"");
  EXPECT_FALSE(CheckAgainstSchema(json(""), {{"type", "string"}, {"minLength", 1}}).ok());
  EXPECT_FALSE(CheckAgainstSchema(json(-1), {{"type", "integer"}, {"minimum", 0}}).ok());
  json any = {{"anyOf", json::array({{{"type", "object"}, {"required", json::array({"ok"})}},
                                     {{"type", "object"}, {"required", json::array({"code"})}}})}};
  EXPECT_TRUE(CheckAgainstSchema({{"ok", 1}}, any).ok());
  EXPECT_TRUE(CheckAgainstSchema({{"code", 1}}, any).ok());
  absl::Status none = CheckAgainstSchema({{"other", 1}}, any);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(std::string(none.message()).find("matches none"), std::string::npos);
}

TEST(JsonSchemaTest, KeywordCheckRefusesWhatTheCheckerCannotEnforce) {
  EXPECT_TRUE(CheckSchemaKeywords({{"type", "object"}, {"properties", {{"a", {{"type", "string"}}}}}}).ok());
  absl::Status st = CheckSchemaKeywords({{"type", "object"}, {"properties", {{"a", {{"type", "string"}, {"pattern", "^0x"}}}}}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(std::string(st.message()), "/properties/a: unsupported keyword \"pattern\"");
  EXPECT_FALSE(CheckSchemaKeywords({{"oneOf", json::array()}}).ok());
  EXPECT_FALSE(CheckSchemaKeywords({{"anyOf", json::array({{{"$ref", "#/x"}}})}}).ok());
}

}  // namespace
}  // namespace sigil::mcp
