// The MCP tools Sigil offers an agent, as tools/list describes them.
//
// Each tool has a name, a title, a description written for a language model,
// an inputSchema and an outputSchema. Every outputSchema is
//   {"type":"object","anyOf":[<success shape>, <refusal shape>]}
// because MCP clients (the TypeScript SDK among them) validate
// structuredContent against it even when isError is true; the refusal shape
// requires only "code" (integer) and "message" (string). Schemas use only
// the keywords json_schema.h enforces, so what a client checks and what the
// server checks are the same thing.
//
// The catalog is built once and immutable; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sigil::mcp {

struct ToolSpec {
  std::string name;
  std::string title;
  std::string description;
  nlohmann::json input_schema;
  nlohmann::json output_schema;
  nlohmann::json annotations;  // MCP ToolAnnotations (hints only)

  // The tools/list entry.
  nlohmann::json ToJson() const;
};

// Every tool, in the order tools/list shows them.
const std::vector<ToolSpec>& SigilTools();
// nullptr when there is no such tool.
const ToolSpec* FindTool(std::string_view name);

// The signing tools explain can dry-run.
const std::vector<std::string>& ExplainableTools();

// The schema every refusal's structuredContent satisfies.
const nlohmann::json& RefusalSchema();

}  // namespace sigil::mcp
