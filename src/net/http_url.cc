#include "net/http_url.h"

#include <algorithm>

#include "absl/status/status.h"
#include "net/http_headers.h"

namespace sigil::net {

namespace {

constexpr size_t kMaxUrlLength = 8192;

constexpr size_t kMaxShownUrlLength = 200;

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreAsciiCase(s.substr(0, prefix.size()), prefix);
}

bool IsSchemeName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool ok = alpha || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    if (!ok) return false;
  }
  return true;
}

// The URL as given may carry a key in its path, query or userinfo: a message
// quotes only what RedactedUrl() keeps.
absl::Status Bad(std::string_view url, const std::string& why) {
  std::string shown = RedactedUrl(url);
  return absl::InvalidArgumentError(shown.empty() ? "invalid URL: " + why : "invalid URL \"" + shown + "\": " + why);
}

}  // namespace

std::string RedactedUrl(std::string_view url) {
  std::string out;
  if (StartsWithIgnoreCase(url, "unix:")) {
    out = std::string(url.substr(0, kMaxShownUrlLength));
  } else {
    size_t sep = url.find("://");
    if (sep == std::string_view::npos || !IsSchemeName(url.substr(0, sep))) return "";
    std::string_view rest = url.substr(sep + 3);
    // An '@' anywhere: where the userinfo ends is anyone's guess (a password
    // may hold '/', '?' or '#': "https://u:p4ss/w0rd@h/", "https://:s?x@h/";
    // and "https://KEY/x@h" has no host this function could trust), so
    // nothing after the scheme is shown.
    if (rest.find('@') != std::string_view::npos) {
      out = std::string(url.substr(0, sep)) + "://<redacted>";
    } else {
      // Backslash too: some parsers read it as '/', and what follows it is
      // not part of the host as far as a reader of the message can tell.
      std::string_view authority = rest.substr(0, rest.find_first_of("/?#\\"));
      out = std::string(url.substr(0, sep)) + "://" + std::string(authority.substr(0, kMaxShownUrlLength));
    }
    out.resize(std::min(out.size(), kMaxShownUrlLength));
  }
  for (char& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = '?';
  }
  return out;
}

std::string HttpUrl::Origin() const {
  switch (scheme) {
    case Scheme::kUnix:
      return "unix:" + unix_path;
    case Scheme::kHttps:
      return "https://" + HostHeader();
    case Scheme::kHttp:
      break;
  }
  return "http://" + HostHeader();
}

std::string HttpUrl::HostHeader() const {
  if (scheme == Scheme::kUnix) return "localhost";
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = (scheme == Scheme::kHttp && port == 80) || (scheme == Scheme::kHttps && port == 443);
  if (!default_port) h += ":" + std::to_string(port);
  return h;
}

absl::StatusOr<HttpUrl> ParseHttpUrl(std::string_view url) {
  if (url.empty()) return Bad(url, "empty");
  if (url.size() > kMaxUrlLength) return Bad(url, "longer than " + std::to_string(kMaxUrlLength) + " bytes");
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) return Bad(url, "contains a space or control character");
  }
  HttpUrl out;

  if (StartsWithIgnoreCase(url, "unix:")) {
    std::string_view path = url.substr(5);
    if (path.substr(0, 3) == "///") path.remove_prefix(2);
    if (path.empty()) return Bad(url, "no socket path after unix:");
    if (path.size() > 107) return Bad(url, "socket path longer than 107 bytes");
    out.scheme = HttpUrl::Scheme::kUnix;
    out.unix_path = std::string(path);
    out.target = "/";
    return out;
  }

  std::string_view rest;
  if (StartsWithIgnoreCase(url, "http://")) {
    out.scheme = HttpUrl::Scheme::kHttp;
    out.port = 80;
    rest = url.substr(7);
  } else if (StartsWithIgnoreCase(url, "https://")) {
    out.scheme = HttpUrl::Scheme::kHttps;
    out.port = 443;
    rest = url.substr(8);
  } else {
    return Bad(url, "expected http://, https:// or unix:");
  }

  // An '@' before the query or fragment is refused, not only in the
  // authority as cut at the first '/': a password may hold '/' ("u:p/w@h"),
  // and "KEY/x@h" would otherwise parse with the host KEY. An upstream
  // JSON-RPC URL has no '@' in its path.
  if (rest.substr(0, rest.find_first_of("?#")).find('@') != std::string_view::npos) {
    return Bad(url, "credentials in the URL are not supported; pass them in a header instead");
  }
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? std::string_view() : rest.substr(end);

  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Bad(url, "unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Bad(url, "unexpected characters after the IPv6 literal");
      port = after.substr(1);
      if (port.empty()) return Bad(url, "empty port");
    }
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) return Bad(url, "empty port");
    }
  }
  if (host.empty()) return Bad(url, "no host");
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_' || c == ':' || c == '%';
    if (!ok) return Bad(url, std::string("invalid character '") + c + "' in host");
  }
  if (!port.empty()) {
    if (port.size() > 5) return Bad(url, "port out of range");
    uint32_t p = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return Bad(url, "port is not a number");
      p = p * 10 + static_cast<uint32_t>(c - '0');
    }
    if (p == 0 || p > 65535) return Bad(url, "port out of range (1-65535)");
    out.port = static_cast<uint16_t>(p);
  }
  out.host = std::string(host);
  if (target.empty()) {
    out.target = "/";
  } else if (target.front() == '?') {
    out.target = "/" + std::string(target);
  } else {
    out.target = std::string(target);
  }
  return out;
}

}  // namespace sigil::net
