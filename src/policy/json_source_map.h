// JsonSourceMap: where things are in a JSON text, for error messages that
// point at the exact field ("rules[3].match.value.lte (line 12, column 30)").
//
// nlohmann::json parses and validates the syntax; this scanner walks the
// (already valid) text a second time to find a value's line and column by
// its field path, to reject duplicate object keys (nlohmann keeps the last
// one silently, which would make a policy mean something its author did not
// see), and to bound nesting depth.
//
// Field paths are written as `rules[3].match.value.lte`; a key that is not
// made of letters, digits, '_' and '-' is written `["odd key"]`.
//
// Stateless functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace sigil::policy {

struct JsonLocation {
  size_t offset = 0;  // byte offset of the value's first character
  int line = 1;       // 1-based
  int column = 1;     // 1-based, in bytes
};

// Line and column of a byte offset.
JsonLocation LocateOffset(std::string_view text, size_t offset);

// `path` extended by an object key or an array index.
std::string JsonPathKey(std::string_view path, std::string_view key);
std::string JsonPathIndex(std::string_view path, size_t index);

// Rejects duplicate keys in any object and nesting deeper than `max_depth`.
// REQUIRES: `text` is valid JSON. InvalidArgument names the path, line and
// column of the offending key.
absl::Status CheckJsonStructure(std::string_view text, int max_depth);

// Location of the value at `path`, or of its nearest enclosing value when the
// path does not exist (a missing field is reported at its parent object).
// REQUIRES: `text` is valid JSON that passed CheckJsonStructure.
std::optional<JsonLocation> FindJsonValue(std::string_view text, std::string_view path);

// The raw text of the number token starting at `offset` ("0.5", "1e30").
std::string_view JsonNumberToken(std::string_view text, size_t offset);

}  // namespace sigil::policy
