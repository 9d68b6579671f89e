// The MCP stdio transport: newline-delimited JSON-RPC on a pair of streams.
//
// Each line of `in` is one JSON-RPC message (UTF-8, no embedded newline; a
// trailing CR is ignored, blank lines are skipped). Each response is written
// to `out` as one line of compact JSON and flushed. Nothing else is ever
// written to `out`: diagnostics belong on stderr, which the caller owns.
//
// Bounds: a line longer than `max_line_bytes` is discarded up to its newline
// and answered with a JSON-RPC error (-32600, id null); JSON nested deeper
// than 64 levels is refused before parsing (-32700). Malformed JSON gets
// -32700 with id null. The loop then continues with the next line.
//
// Runs until `in` reaches end of file. Messages are handled one at a time,
// in order. Not thread-safe with respect to the streams (it owns them while
// it runs).
#pragma once

#include <cstddef>
#include <istream>
#include <ostream>

#include "mcp/mcp_server.h"

namespace sigil::mcp {

struct StdioOptions {
  size_t max_line_bytes = 4 << 20;  // 4 MiB
};

// 0 at end of input; 1 if writing to `out` failed (e.g. the client went
// away).
int RunStdio(std::istream& in, std::ostream& out, McpServer& server, const StdioOptions& options = {});

}  // namespace sigil::mcp
