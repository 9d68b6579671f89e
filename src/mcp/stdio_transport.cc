#include "mcp/stdio_transport.h"

#include <string>

#include "base/json_bounds.h"
#include "base/json_duplicates.h"

namespace sigil::mcp {
namespace {

using nlohmann::json;

bool Write(std::ostream& out, const json& message) {
  out << message.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  out.flush();
  return static_cast<bool>(out);
}

// Reads one line into `line` (without the newline). Returns false at end of
// input with nothing read. Sets `too_long` (and keeps only a prefix) when the
// line exceeds `max`.
bool ReadLine(std::streambuf& in, std::string& line, size_t max, bool& too_long) {
  line.clear();
  too_long = false;
  bool any = false;
  for (;;) {
    const int c = in.sbumpc();
    if (c == std::char_traits<char>::eof()) return any;
    any = true;
    if (c == '\n') return true;
    if (line.size() < max) {
      line.push_back(static_cast<char>(c));
    } else {
      too_long = true;
    }
  }
}

}  // namespace

int RunStdio(std::istream& in, std::ostream& out, McpServer& server, const StdioOptions& options) {
  std::streambuf* buf = in.rdbuf();
  if (buf == nullptr) return 0;
  std::string line;
  bool too_long = false;
  while (ReadLine(*buf, line, options.max_line_bytes, too_long)) {
    if (too_long) {
      if (!Write(out, McpServer::ErrorResponse(nullptr, kInvalidRequest,
                                               "message longer than " + std::to_string(options.max_line_bytes) +
                                                   " bytes; it was discarded"))) {
        return 1;
      }
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;

    json response;
    if (absl::Status st = CheckJsonBounds(line, JsonBounds{options.max_line_bytes, 64}); !st.ok()) {
      response = McpServer::ErrorResponse(nullptr, kParseError, "Parse error: " + std::string(st.message()));
    } else {
      JsonParsed<json> parsed = ParseNotingDuplicates(line);
      json& message = parsed.doc;
      if (message.is_discarded()) {
        response = McpServer::ErrorResponse(nullptr, kParseError, "Parse error: not valid JSON");
      } else if (!parsed.duplicates.empty()) {
        // Resolved silently (last one wins) by the parser: refused whole.
        response = McpServer::ErrorResponse(
            nullptr, kInvalidRequest,
            "Invalid Request: " + DuplicateKeyMessage(parsed.duplicates.front(), "the message"));
      } else {
        response = server.Handle(message);
      }
    }
    if (!response.is_null() && !Write(out, response)) return 1;
  }
  return 0;
}

}  // namespace sigil::mcp
