// HttpUrl: where an HTTP client connects, parsed from the three forms Sigil
// accepts (INTERFACE.md: SIGIL_URL, --upstream):
//   http://HOST[:PORT][/PATH][?QUERY]     default port 80
//   https://HOST[:PORT][/PATH][?QUERY]    default port 443
//   unix:/PATH/TO/SOCKET                  (also unix:///PATH/TO/SOCKET)
// HOST is a name, an IPv4 literal or a bracketed IPv6 literal. A fragment is
// dropped. Credentials in the URL (user:pass@host) are refused so that a
// secret never sits in a string that ends up in logs; send them in a header.
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
  std::string target = "/";  // origin-form path and query; "/" for Unix URLs
  std::string text;  // the URL as given (for messages)

  // Value for the Host header: "host", "host:port" (non-default port),
  // "[v6]:port"; "localhost" for Unix sockets.
  std::string HostHeader() const;
};

// Errors: InvalidArgument naming what is wrong (unknown scheme, empty host,
// bad port, credentials present, control characters, too long).
absl::StatusOr<HttpUrl> ParseHttpUrl(std::string_view url);

}  // namespace sigil::net
