#include "net/http_url.h"

#include <string>
#include <vector>

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

TEST(HttpUrlTest, OriginNamesOnlySchemeHostAndPort) {
  auto infura = ParseHttpUrl("https://mainnet.infura.io/v3/SECRETKEY?apikey=K2#frag");
  ASSERT_TRUE(infura.ok()) << infura.status();
  EXPECT_EQ(infura->Origin(), "https://mainnet.infura.io");
  auto local = ParseHttpUrl("http://127.0.0.1:8545/v2/SECRETKEY");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->Origin(), "http://127.0.0.1:8545");
  auto v6 = ParseHttpUrl("http://[::1]:80?apikey=SECRETKEY");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->Origin(), "http://[::1]");
  auto tls_port = ParseHttpUrl("https://h:8443/");
  ASSERT_TRUE(tls_port.ok());
  EXPECT_EQ(tls_port->Origin(), "https://h:8443");
  auto sock = ParseHttpUrl("unix:///run/sigil.sock");
  ASSERT_TRUE(sock.ok());
  EXPECT_EQ(sock->Origin(), "unix:/run/sigil.sock");
}

TEST(HttpUrlTest, ErrorsNeverQuoteUserinfoPathOrQuery) {
  for (std::string url : std::vector<std::string>{"http://user:SECRETKEY@127.0.0.1:9/", "http://SECRETKEY@h/",
                          "http://h:8a/v3/SECRETKEY", "http://h$x/v3/SECRETKEY?k=SECRETKEY",
                          "http://h/v3/SECRETKEY /x", "ftp://u:SECRETKEY@h/SECRETKEY",
                          "http://h:1/" + std::string(9000, 'a') + "SECRETKEY", "SECRETKEY",
                          "user:SECRETKEY@h", "http://[::1/SECRETKEY"}) {
    auto u = ParseHttpUrl(url);
    ASSERT_FALSE(u.ok()) << url;
    EXPECT_THAT(std::string(u.status().message()), ::testing::Not(::testing::HasSubstr("SECRETKEY"))) << url;
  }
  // Userinfo whose password holds '/', '?' or '#', and an '@' in the path
  // (where "KEY" would have been read as the host): refused, and the message
  // quotes nothing after the scheme.
  for (std::string url : std::vector<std::string>{
           "https://user:p4ss/w0rd@node.example:8545/", "https://:sec?ret@mainnet.infura.io/v3/ID",
           "https://KEY/x@host", "https://user:p4ss#w0rd@node.example/", "http://h/v3/KEY@x",
           "https://user:p4ss\\w0rd@node.example/"}) {
    auto u = ParseHttpUrl(url);
    ASSERT_FALSE(u.ok()) << url;
    std::string message(u.status().message());
    EXPECT_THAT(message, ::testing::StartsWith(url.substr(0, 5) == "https" ? "invalid URL \"https://<redacted>\": "
                                                                           : "invalid URL \"http://<redacted>\": "))
        << url;
    for (const char* secret : {"p4ss", "w0rd", "sec", "ret", "KEY", "user"}) {
      EXPECT_THAT(message, ::testing::Not(::testing::HasSubstr(secret))) << url;
    }
  }
  // Still names what is wrong.
  auto cred = ParseHttpUrl("http://user:hunter2@127.0.0.1:9/");
  EXPECT_EQ(std::string(cred.status().message()),
            "invalid URL \"http://<redacted>\": credentials in the URL are not supported; pass them in a header "
            "instead");
  // An '@' in the query is not userinfo: accepted.
  auto query = ParseHttpUrl("http://h:8545/rpc?from=a@b#c@d");
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->host, "h");
  EXPECT_EQ(query->target, "/rpc?from=a@b");
}

TEST(HttpUrlTest, RedactedUrlKeepsOnlyTheOrigin) {
  EXPECT_EQ(RedactedUrl("https://eth.example:8443/v3/KEY?apikey=K#f"), "https://eth.example:8443");
  EXPECT_EQ(RedactedUrl("http://h?apikey=K"), "http://h");
  EXPECT_EQ(RedactedUrl("http://h\\evil/KEY"), "http://h");
  // Any '@' after "://": where userinfo ends cannot be told, nothing is shown.
  EXPECT_EQ(RedactedUrl("https://u:p@eth.example:8443/v3/KEY?apikey=K#f"), "https://<redacted>");
  EXPECT_EQ(RedactedUrl("http://h\\@evil/KEY"), "http://<redacted>");
  EXPECT_EQ(RedactedUrl("https://user:p4ss/w0rd@node.example:8545/"), "https://<redacted>");
  EXPECT_EQ(RedactedUrl("https://:sec?ret@mainnet.infura.io/v3/ID"), "https://<redacted>");
  EXPECT_EQ(RedactedUrl("https://:sec#ret@mainnet.infura.io/v3/ID"), "https://<redacted>");
  EXPECT_EQ(RedactedUrl("https://KEY/x@host"), "https://<redacted>");
  EXPECT_EQ(RedactedUrl("http://h/rpc?from=a@b"), "http://<redacted>");
  EXPECT_EQ(RedactedUrl("unix:/run/sigil.sock"), "unix:/run/sigil.sock");
  EXPECT_EQ(RedactedUrl("http://h\x01x/"), "http://h?x");
  EXPECT_EQ(RedactedUrl("0123456789abcdef"), "");  // no scheme: could be a bare key
  EXPECT_EQ(RedactedUrl("user:pw@h://x"), "");
  EXPECT_EQ(RedactedUrl(""), "");
  EXPECT_EQ(RedactedUrl("http://" + std::string(500, 'h')).size(), 200u);
}

}  // namespace
}  // namespace sigil::net
