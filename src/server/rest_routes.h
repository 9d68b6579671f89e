// The REST /v1 routes by shape, and the methods each serves: the authority
// ApiServer::Impl::Rest consults before it reads the body or runs a handler.
// A path of no route's shape gets 404; a known path asked with another
// method gets 405 with an Allow header (RFC 9110 §15.5.6). A route in this
// table that the dispatch does not serve answers 500, so drift shows: the
// e2e test tests/e2e/bad_input asks every route with every method.
//
// Thread-safety: pure functions over a constant table.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sigil::server {

// The methods ("GET, HEAD, POST") the /v1 routes of this shape accept, in a
// fixed order, HEAD wherever GET is; empty if no route has it. `parts` are the path's segments ("v1"
// first), as the dispatcher splits them; "*" in the table is any segment.
std::string RestAllowedMethods(const std::vector<std::string>& parts);
// The members a body sent to this route may have, ','-separated in the
// order the handler documents them ("" none: the route reads no body);
// nullopt when any is accepted (POST /v1/policy takes the document itself).
// A member the handler would not read is refused, not ignored: a typo such
// as "expire" for "expires" must not issue a token that never expires.
std::optional<std::string> RestBodyFields(const std::vector<std::string>& parts, std::string_view method);
// Whether a route of this shape serves `method`.
bool RestServes(const std::vector<std::string>& parts, std::string_view method);

}  // namespace sigil::server
