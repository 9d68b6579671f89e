// What sigil_getPolicy shows an agent: the rules that can apply to it and
// the named lists those rules reference, nothing else of the document.
// Other agents' rules, and lists only they use (their payees, their bots),
// are theirs to know; an agent needs only what can decide its own requests.
// Admins, operators and auditors read the whole document (GET /v1/policy).
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "policy/policy.h"
#include "tokens/token_store.h"

namespace sigil::server {

struct PolicyView {
  nlohmann::json rules = nlohmann::json::array();  // the document's rule objects, as written, in order
  nlohmann::json lists = nlohmann::json::object();  // name → the document's list
};

// `document` is the applied policy text parsed as JSON, `parsed` the same
// document as the engine holds it (its rules in the document's order). A rule
// applies to `agent` unless it names agents without this one, or names keys
// of which the agent may use none. A list is shown when a shown rule names it
// ("@name" anywhere in the rule: keys, agents, match).
PolicyView AgentPolicyView(const nlohmann::json& document, const policy::Policy& parsed, const tokens::Principal& agent);

// The whole document's rules and lists, for roles that may read the policy.
PolicyView FullPolicyView(const nlohmann::json& document);

}  // namespace sigil::server
