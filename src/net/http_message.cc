#include "net/http_message.h"

#include <cstdio>

namespace sigil::net {

namespace {

// For an absolute-form target ("http://host:port/p?q"): what follows the
// authority ("/p?q", or "" for "http://host"). nullopt for any other form.
std::optional<std::string_view> AfterAuthority(std::string_view target) {
  if (target.empty() || target.front() == '/') return std::nullopt;
  size_t sep = target.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  std::string_view scheme = target.substr(0, sep);
  if (!EqualsIgnoreAsciiCase(scheme, "http") && !EqualsIgnoreAsciiCase(scheme, "https")) return std::nullopt;
  std::string_view rest = target.substr(sep + 3);
  size_t end = rest.find_first_of("/?");
  return end == std::string_view::npos ? std::string_view() : rest.substr(end);
}

}  // namespace

std::string OriginFormTarget(std::string_view target) {
  std::optional<std::string_view> rest = AfterAuthority(target);
  if (!rest) return std::string(target);
  if (rest->empty() || rest->front() == '?') return "/" + std::string(*rest);
  return std::string(*rest);
}

std::string_view HttpRequest::path() const {
  std::optional<std::string_view> rest = AfterAuthority(target);
  std::string_view t = rest ? *rest : std::string_view(target);
  std::string_view p = t.substr(0, t.find('?'));
  if (rest && p.empty()) return "/";
  return p;
}

std::string_view HttpRequest::query() const {
  std::optional<std::string_view> rest = AfterAuthority(target);
  std::string_view t = rest ? *rest : std::string_view(target);
  size_t q = t.find('?');
  return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

namespace {
// Minimal JSON string escaping; the transport's messages are ASCII sentences
// but may quote bytes from the request.
void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}
}  // namespace

std::string JsonErrorBody(std::string_view code, std::string_view message) {
  std::string out = "{\"error\":{\"code\":";
  AppendJsonString(out, code);
  out += ",\"message\":";
  AppendJsonString(out, message);
  out += "}}";
  return out;
}

}  // namespace sigil::net
