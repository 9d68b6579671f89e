// RestAllowedMethods: the REST /v1 routes by shape, and the methods each
// accepts. ApiServer answers a known path asked with another method 405 with
// an Allow header (RFC 9110 §15.5.6), not 404, from this table.
//
// The table mirrors ApiServer::Impl::Rest's dispatch; tests/e2e/bad_input
// asks every route with its methods (never 404/405) and with others (405).
//
// Thread-safety: pure functions over a constant table.
#pragma once

#include <string>
#include <vector>

namespace sigil::server {

// The methods ("GET, POST") the /v1 routes of this shape accept, in a fixed
// order; empty if no route has it. `parts` are the path's segments ("v1"
// first), as the dispatcher splits them; "*" in the table is any segment.
std::string RestAllowedMethods(const std::vector<std::string>& parts);

}  // namespace sigil::server
