// A checker for the subset of JSON Schema that Sigil's MCP tool schemas use.
//
// Why: an MCP client built on the official TypeScript SDK compiles every
// tool's outputSchema with Ajv and rejects a result whose structuredContent
// does not match it. The server checks each result against the same schema
// before sending it (and each call's arguments against the inputSchema), so a
// daemon answer of an unexpected shape becomes a readable tool error instead
// of a client-side exception.
//
// Supported keywords (the same meaning in JSON Schema draft-07 and 2020-12):
//   type (a name or an array of names; "integer" accepts integral numbers),
//   properties, required, additionalProperties (bool or schema), items
//   (one schema), anyOf, enum, minLength, minimum, description, title.
// Any other keyword makes CheckSchemaKeywords fail, so a schema can never say
// more than this checker enforces. Pure functions; thread-safe.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"

namespace sigil::mcp {

// OK if `value` satisfies `schema`. Otherwise InvalidArgument whose message
// names the JSON pointer of the first offending member and what was wrong,
// e.g. "/value: expected string or integer, got number".
absl::Status CheckAgainstSchema(const nlohmann::json& value, const nlohmann::json& schema);

// OK if `schema` uses only the keywords listed above (recursively).
absl::Status CheckSchemaKeywords(const nlohmann::json& schema);

}  // namespace sigil::mcp
