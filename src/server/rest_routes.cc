#include "server/rest_routes.h"

#include <string_view>

namespace sigil::server {
namespace {

struct Route {
  std::string_view shape;  // the segments after "v1", '/'-separated; "*" is any segment
  std::string_view method;
  // The body members the handler reads, ','-separated; "*" any (POST
  // /v1/policy also takes the policy document itself as the body).
  std::string_view fields = "";
};

// One line per (shape, method) that ApiServer::Impl::Rest serves.
constexpr Route kRoutes[] = {
    {"keys", "GET"},
    {"keys", "POST", "name,type,backend"},
    {"keys/import", "POST", "name,type,private_key"},
    {"keys/*", "GET"},
    {"keys/*/rotate", "POST"},
    {"policy", "GET"},
    {"policy", "POST", "*"},
    {"policy", "PUT", "*"},
    {"policy/explain", "POST", "key,kind,tx,message,typed_data,event,message_base64"},
    {"policy/suggest", "GET"},
    {"tokens", "GET"},
    {"tokens", "POST", "role,name,keys,expires,rate"},
    {"tokens/*", "DELETE"},
    {"tokens/*/totp", "POST"},
    {"approvals", "GET"},
    {"approvals/*", "GET"},
    {"approvals/*/approve", "POST", "totp"},
    {"approvals/*/reject", "POST", "reason"},
    {"lockdown", "GET"},
    {"lockdown", "POST", "on,reason,totp"},
    {"agents/*/suspend", "POST", "reason"},
    {"agents/*/resume", "POST", "totp"},
    {"audit/verify", "GET"},
    {"audit/export", "GET"},
    {"audit/proof", "GET"},
    {"audit/report", "GET"},
    {"attest", "POST", "nonce"},
    {"attest/check", "GET"},
    {"backup", "POST", "passphrase,shares"},
};

bool Matches(std::string_view shape, const std::vector<std::string>& parts) {
  if (parts.empty() || parts[0] != "v1") return false;
  size_t i = 1;
  while (true) {
    const size_t slash = shape.find('/');
    const std::string_view segment = shape.substr(0, slash);
    if (i >= parts.size() || (segment != "*" && segment != parts[i])) return false;
    ++i;
    if (slash == std::string_view::npos) return i == parts.size();
    shape.remove_prefix(slash + 1);
  }
}

}  // namespace

bool RestServes(const std::vector<std::string>& parts, std::string_view method) {
  for (const Route& r : kRoutes) {
    if (r.method == method && Matches(r.shape, parts)) return true;
  }
  return false;
}

std::optional<std::string> RestBodyFields(const std::vector<std::string>& parts, std::string_view method) {
  for (const Route& r : kRoutes) {
    if (r.method == method && Matches(r.shape, parts)) {
      if (r.fields == "*") return std::nullopt;
      return std::string(r.fields);
    }
  }
  return std::string();
}

std::string RestAllowedMethods(const std::vector<std::string>& parts) {
  std::string out;
  for (std::string_view method : {"GET", "POST", "PUT", "DELETE"}) {
    if (!RestServes(parts, method)) continue;
    if (!out.empty()) out += ", ";
    out += method;
    // The net layer answers HEAD wherever GET is served (RFC 9110 §9.3.2).
    if (method == "GET") out += ", HEAD";
  }
  return out;
}

}  // namespace sigil::server
