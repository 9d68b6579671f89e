// A pre-parse guard for untrusted JSON text: bounds the size and the nesting
// depth before any parser (or destructor) recurses over it. Thread-safe, no
// allocation.
#pragma once

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"

namespace sigil {

struct JsonBounds {
  size_t max_bytes = 1 << 20;
  size_t max_depth = 64;
};

// InvalidArgument if `text` is longer than max_bytes or nests arrays/objects
// deeper than max_depth. Brackets inside strings are ignored. Does not check
// that the text is otherwise valid JSON.
absl::Status CheckJsonBounds(std::string_view text, const JsonBounds& bounds = {});

}  // namespace sigil
