// The text of JSON-RPC ids that are numbers, as the caller wrote them.
//
// JSON-RPC 2.0 §5: the response's id "MUST be the same as the value of the
// id member in the Request Object". nlohmann::json holds a number in 64 bits:
// 123456789012345678901234567890 becomes a double and would come back as
// 1.2345678901234568e+29, 1E2 as 100.0, -0 as 0, and 1e400 (past a double)
// fails the whole parse. So the dispatcher finds each call's number id in the
// request text and echoes those bytes.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"

namespace sigil::server {

// Where a number id is in the request text.
struct JsonTextSpan {
  size_t pos = 0;
  size_t len = 0;
  std::string_view In(std::string_view text) const { return text.substr(pos, len); }
};

// A number id longer than this is refused (-32600) rather than echoed.
inline constexpr size_t kMaxNumberIdChars = 100;

// For the root object (one entry) or each element of a root array (one entry
// each, in order): the span of its "id" member's value when that value is a
// number (JSON grammar, RFC 8259 §6); nullopt when the element is not an
// object, has no id, an id of another type, or the name "id" twice. Member
// names are compared after unescaping ("\u0069d" is "id"). Reads valid JSON
// exactly; on text that is not valid JSON it stops early (the caller's
// parse refuses that text anyway).
std::vector<std::optional<JsonTextSpan>> ScanNumberIds(std::string_view text);

// `text` with every number id in `ids` that nlohmann cannot hold (1e400: past
// a double) replaced by 0, so the rest of the call can be parsed and the id
// echoed from the original text; nullopt when there is none.
std::optional<std::string> ZeroUnreadableIds(std::string_view text, const std::vector<std::optional<JsonTextSpan>>& ids);

// `response` (an object with an "id" member) as text, its id written as
// `raw_id` (the caller's bytes; JSON number grammar already checked).
std::string DumpWithRawId(nlohmann::json response, std::string_view raw_id);

}  // namespace sigil::server
