#include "server/rest_routes.h"

#include <gtest/gtest.h>

namespace sigil::server {
namespace {

TEST(RestRoutesTest, MethodsOfEachShape) {
  EXPECT_EQ(RestAllowedMethods({"v1", "keys"}), "GET, HEAD, POST");
  EXPECT_EQ(RestAllowedMethods({"v1", "keys", "trader"}), "GET, HEAD");
  EXPECT_EQ(RestAllowedMethods({"v1", "keys", "import"}), "GET, HEAD, POST");  // also a key named "import"
  EXPECT_EQ(RestAllowedMethods({"v1", "keys", "trader", "rotate"}), "POST");
  EXPECT_EQ(RestAllowedMethods({"v1", "policy"}), "GET, HEAD, POST, PUT");
  EXPECT_EQ(RestAllowedMethods({"v1", "tokens", "bot"}), "DELETE");
  EXPECT_EQ(RestAllowedMethods({"v1", "approvals", "a1", "reject"}), "POST");
  EXPECT_EQ(RestAllowedMethods({"v1", "lockdown"}), "GET, HEAD, POST");
  EXPECT_EQ(RestAllowedMethods({"v1", "audit", "verify"}), "GET, HEAD");
  EXPECT_EQ(RestAllowedMethods({"v1", "backup"}), "POST");
  EXPECT_TRUE(RestServes({"v1", "policy"}, "PUT"));
  EXPECT_FALSE(RestServes({"v1", "policy"}, "DELETE"));
  EXPECT_FALSE(RestServes({"v1", "policy"}, "get"));  // methods are case-sensitive
  EXPECT_FALSE(RestServes({"v1", "lockdown", "x"}, "GET"));
}

TEST(RestRoutesTest, UnknownShapesHaveNoMethods) {
  EXPECT_EQ(RestAllowedMethods({}), "");
  EXPECT_EQ(RestAllowedMethods({"v1"}), "");
  EXPECT_EQ(RestAllowedMethods({"v2", "keys"}), "");
  EXPECT_EQ(RestAllowedMethods({"v1", "nope"}), "");
  EXPECT_EQ(RestAllowedMethods({"v1", "keys", "trader", "rotate", "now"}), "");
  EXPECT_EQ(RestAllowedMethods({"v1", "keys", "trader", "delete"}), "");
  EXPECT_EQ(RestAllowedMethods({"v1", "audit"}), "");
}

TEST(RestRoutesTest, BodyFieldsOfEachRoute) {
  EXPECT_EQ(RestBodyFields({"v1", "tokens"}, "POST"), "role,name,keys,expires,rate");
  EXPECT_EQ(RestBodyFields({"v1", "keys", "import"}, "POST"), "name,type,private_key");
  EXPECT_EQ(RestBodyFields({"v1", "agents", "bot-1", "suspend"}, "POST"), "reason");
  EXPECT_EQ(RestBodyFields({"v1", "keys", "trader", "rotate"}, "POST"), "");  // no body members
  EXPECT_EQ(RestBodyFields({"v1", "keys"}, "GET"), "");
  // POST /v1/policy also takes the policy document itself as the body.
  EXPECT_EQ(RestBodyFields({"v1", "policy"}, "POST"), std::nullopt);
  EXPECT_EQ(RestBodyFields({"v1", "policy"}, "PUT"), std::nullopt);
  EXPECT_EQ(RestBodyFields({"v1", "nope"}, "POST"), "");
}

}  // namespace
}  // namespace sigil::server
