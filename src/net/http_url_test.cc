#include "net/http_url.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sigil::net {
namespace {

TEST(HttpUrlTest, ParsesHttpWithDefaultsAndExplicitParts) {
  auto u = ParseHttpUrl("http://127.0.0.1");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, HttpUrl::Scheme::kHttp);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->HostHeader(), "127.0.0.1");

  auto v = ParseHttpUrl("HTTPS://node.example:8545/v3/abc?x=1#frag");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->scheme, HttpUrl::Scheme::kHttps);
  EXPECT_EQ(v->host, "node.example");
  EXPECT_EQ(v->port, 8545);
  EXPECT_EQ(v->target, "/v3/abc?x=1");
  EXPECT_EQ(v->HostHeader(), "node.example:8545");

  auto q = ParseHttpUrl("http://h?x=1");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->target, "/?x=1");
}

TEST(HttpUrlTest, ParsesIpv6AndUnix) {
  auto u = ParseHttpUrl("https://[::1]:8443/rpc");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->HostHeader(), "[::1]:8443");

  auto s = ParseHttpUrl("unix:/run/sigil/sigil.sock");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->scheme, HttpUrl::Scheme::kUnix);
  EXPECT_EQ(s->unix_path, "/run/sigil/sigil.sock");
  EXPECT_EQ(s->target, "/");
  EXPECT_EQ(s->HostHeader(), "localhost");
  auto t = ParseHttpUrl("unix:///tmp/x.sock");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->unix_path, "/tmp/x.sock");
}

TEST(HttpUrlTest, RejectsWithReasons) {
  struct Case {
    const char* url;
    const char* why;
  } cases[] = {
      {"", "empty"},
      {"ftp://x", "expected http://"},
      {"http://", "no host"},
      {"http://:80/", "no host"},
      {"http://h:0", "port out of range"},
      {"http://h:65536", "port out of range"},
      {"http://h:8a", "not a number"},
      {"http://h:", "empty port"},
      {"http://user:pw@h/", "credentials"},
      {"http://h /x", "space"},
      {"http://[::1/", "unterminated"},
      {"http://h$x/", "invalid character"},
      {"unix:", "no socket path"},
  };
  for (const Case& c : cases) {
    auto u = ParseHttpUrl(c.url);
    ASSERT_FALSE(u.ok()) << c.url;
    EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(u.status().message()), ::testing::HasSubstr(c.why)) << c.url;
  }
  EXPECT_FALSE(ParseHttpUrl("http://h/" + std::string(9000, 'a')).ok());
}

}  // namespace
}  // namespace sigil::net
