#include "net/http_headers.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/http_message.h"

namespace sigil::net {
namespace {

TEST(HttpHeadersTest, LookupIsCaseInsensitiveAndOrdered) {
  HttpHeaders h;
  h.Add("Content-Type", "application/json");
  h.Add("set-cookie", "a=1");
  h.Add("Set-Cookie", "b=2");
  EXPECT_EQ(h.Get("content-type"), "application/json");
  EXPECT_EQ(h.Get("CONTENT-TYPE"), "application/json");
  EXPECT_FALSE(h.Get("Content-Length").has_value());
  EXPECT_EQ(h.GetOr("X-Missing", "d"), "d");
  EXPECT_THAT(h.GetAll("SET-COOKIE"), ::testing::ElementsAre("a=1", "b=2"));
  h.Set("SET-cookie", "c=3");
  EXPECT_THAT(h.GetAll("Set-Cookie"), ::testing::ElementsAre("c=3"));
  h.Remove("content-TYPE");
  EXPECT_FALSE(h.Has("Content-Type"));
  EXPECT_EQ(h.size(), 1u);
}

// Repeated lines of a list-valued field combine into one value, in order.
TEST(HttpHeadersTest, GetCombinedJoinsRepeatedLines) {
  HttpHeaders h;
  EXPECT_FALSE(h.GetCombined("Accept").has_value());
  h.Add("Accept", "text/event-stream");
  EXPECT_EQ(h.GetCombined("accept"), "text/event-stream");
  h.Add("X-Other", "x");
  h.Add("ACCEPT", "application/json;q=0.5");
  EXPECT_EQ(h.GetCombined("Accept"), "text/event-stream, application/json;q=0.5");
  h.Add("Accept", "");
  EXPECT_EQ(h.GetCombined("Accept"), "text/event-stream, application/json;q=0.5, ");
}

TEST(HttpMessageTest, PathQueryAndJsonErrorBody) {
  HttpRequest r;
  r.target = "/v1/keys?name=a&x=%22";
  EXPECT_EQ(r.path(), "/v1/keys");
  EXPECT_EQ(r.query(), "name=a&x=%22");
  r.target = "/plain";
  EXPECT_EQ(r.path(), "/plain");
  EXPECT_EQ(r.query(), "");
  EXPECT_EQ(JsonErrorBody("bad_request", "quote \" and \\ and \n\x01"),
            R"({"error":{"code":"bad_request","message":"quote \" and \\ and \n\u0001"}})");
}

}  // namespace
}  // namespace sigil::net
