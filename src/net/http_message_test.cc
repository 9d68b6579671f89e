#include "net/http_message.h"

#include "gtest/gtest.h"

namespace sigil::net {
namespace {

HttpRequest WithTarget(std::string target) {
  HttpRequest r;
  r.target = std::move(target);
  return r;
}

TEST(HttpMessageTest, PathAndQueryOfOriginForm) {
  EXPECT_EQ(WithTarget("/v1/keys?limit=2").path(), "/v1/keys");
  EXPECT_EQ(WithTarget("/v1/keys?limit=2").query(), "limit=2");
  EXPECT_EQ(WithTarget("/healthz").query(), "");
  EXPECT_EQ(WithTarget("*").path(), "*");
}

// RFC 9112 section 3.2.2: the path of an absolute-form target is what routes.
TEST(HttpMessageTest, PathAndQueryOfAbsoluteForm) {
  EXPECT_EQ(WithTarget("http://127.0.0.1:8080/healthz").path(), "/healthz");
  EXPECT_EQ(WithTarget("HTTPS://h/rpc?x=1&y").path(), "/rpc");
  EXPECT_EQ(WithTarget("HTTPS://h/rpc?x=1&y").query(), "x=1&y");
  EXPECT_EQ(WithTarget("http://h").path(), "/");
  EXPECT_EQ(WithTarget("http://h?q").path(), "/");
  EXPECT_EQ(WithTarget("http://h?q").query(), "q");
  EXPECT_EQ(WithTarget("ftp://h/x").path(), "ftp://h/x");  // not an HTTP URI: left alone (and unrouted)
}

TEST(HttpMessageTest, OriginFormTarget) {
  EXPECT_EQ(OriginFormTarget("/a?b"), "/a?b");
  EXPECT_EQ(OriginFormTarget("http://h:1/a?b"), "/a?b");
  EXPECT_EQ(OriginFormTarget("http://user@h/a"), "/a");
  EXPECT_EQ(OriginFormTarget("http://h"), "/");
  EXPECT_EQ(OriginFormTarget("https://h?q=1"), "/?q=1");
  EXPECT_EQ(OriginFormTarget("h:80"), "h:80");
  EXPECT_EQ(OriginFormTarget("*"), "*");
}

}  // namespace
}  // namespace sigil::net
