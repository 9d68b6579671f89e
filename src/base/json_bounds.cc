#include "base/json_bounds.h"

#include <string>

namespace sigil {

absl::Status CheckJsonBounds(std::string_view text, const JsonBounds& bounds) {
  if (text.size() > bounds.max_bytes) {
    return absl::InvalidArgumentError("JSON document is " + std::to_string(text.size()) +
                                      " bytes; the limit is " + std::to_string(bounds.max_bytes));
  }
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > bounds.max_depth) {
          return absl::InvalidArgumentError("JSON nests deeper than " + std::to_string(bounds.max_depth) + " levels");
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return absl::OkStatus();
}

}  // namespace sigil
