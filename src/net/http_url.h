// HttpUrl: where an HTTP client connects, parsed from the three forms Sigil
// accepts (INTERFACE.md: SIGIL_URL, --upstream):
//   http://HOST[:PORT][/PATH][?QUERY]     default port 80
//   https://HOST[:PORT][/PATH][?QUERY]    default port 443
//   unix:/PATH/TO/SOCKET                  (also unix:///PATH/TO/SOCKET)
// HOST is a name, an IPv4 literal or a bracketed IPv6 literal. A fragment is
// dropped. Credentials in the URL (user:pass@host) are refused; send them in
// a header. So is any '@' before the query: a password may hold '/'
// ("user:p/w@host"), and the path of an upstream URL has no '@'.
//
// Security property: a URL's path and query often carry an API key (Infura
// /v3/KEY, Alchemy /v2/KEY, ?apikey=). Nothing here puts them in a message:
// error messages and Origin() name at most scheme://host[:port] (or the
// socket path of a unix: URL), never userinfo, path, query or fragment.
//
// Value type, immutable after parsing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sigil::net {

struct HttpUrl {
  enum class Scheme { kHttp, kHttps, kUnix };

  Scheme scheme = Scheme::kHttp;
  std::string host;  // TCP only; IPv6 without brackets
  uint16_t port = 0;  // TCP only
  std::string unix_path;  // Unix only
  // Origin-form path and query; "/" for Unix URLs. May hold an API key:
  // never put it in a message or a log line (use Origin()).
  std::string target = "/";

  // Value for the Host header: "host", "host:port" (non-default port),
  // "[v6]:port"; "localhost" for Unix sockets.
  std::string HostHeader() const;

  // The URL safe to show in messages and logs: "http://host",
  // "https://host:8443", "http://[::1]:8545" (the port only when not the
  // scheme's default), or "unix:/path/to/socket". No path, query or fragment.
  std::string Origin() const;
};

// Errors: InvalidArgument naming what is wrong (unknown scheme, empty host,
// bad port, credentials present, control characters, too long). The message
// quotes the URL only as RedactedUrl() shows it.
absl::StatusOr<HttpUrl> ParseHttpUrl(std::string_view url);

// Best effort for text that may not even parse (a bad --upstream value):
// "scheme://host[:port]" with path, query and fragment dropped;
// "scheme://<redacted>" when an '@' appears anywhere after "://" (where
// userinfo ends cannot be told: "https://u:p/w@h", "https://KEY/x@h");
// "unix:/path" as given; and "" when the text has no "scheme://" or "unix:"
// prefix (it could be anything, e.g. a bare API key). Control characters and
// non-ASCII bytes become '?'; at most 200 bytes.
std::string RedactedUrl(std::string_view url);

}  // namespace sigil::net
