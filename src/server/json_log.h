// Structured logs: one JSON object per line (issue #6).
//
// InstallJsonLogger makes spdlog's default logger write lines like
//   {"ts":"2024-05-01T12:00:00.123456Z","level":"info","event":"request",...}
// A message that is itself a JSON object (what LogAccess and the daemon's
// `spdlog::warn(json.dump())` calls produce) has its fields merged into the
// line; any other message becomes {"msg": "..."}.
//
// Security property (DESIGN.md invariant 1): callers never pass bodies,
// headers, tokens or key material; as a second line of defence the
// formatter replaces anything shaped like a bearer token ("sgl_" followed
// by 16 or more hex digits, so truncated tokens too) with "sgl_[redacted]".
//
// Thread-safety: InstallJsonLogger once at start (before serving); LogAccess
// and the formatter are thread-safe (spdlog's _mt sinks).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace spdlog {
class formatter;
}

namespace sigil::server {

struct JsonLogOptions {
  // Empty: standard error. Otherwise a file, appended to.
  std::string path;
  // "trace", "debug", "info", "warn", "error", "off".
  std::string level = "info";
};

// Sets the default logger. InvalidArgument for an unknown level,
// Unavailable when the file cannot be opened.
absl::Status InstallJsonLogger(const JsonLogOptions& options = {});

// The formatter, for tests and for sinks set up elsewhere.
std::unique_ptr<spdlog::formatter> NewJsonLogFormatter();

// One access-log line per request. Strings are bounded and must not hold
// secrets (the API server passes names, routes and decisions only).
struct AccessLogEntry {
  std::string request_id;
  std::string method;      // HTTP method
  std::string path;        // path only, never the query string
  std::string rpc_method;  // JSON-RPC method ("batch" for a batch), empty for REST
  size_t rpc_calls = 0;    // calls in a batch
  std::string principal;   // token name, never the token
  std::string role;
  int status = 0;          // HTTP status
  int rpc_code = 0;        // JSON-RPC error code of the (first) call, 0 = success
  std::string decision;    // signed, denied, pending_approval, rate_limited, ...
  std::string rule;        // the policy rule that fired
  int64_t latency_us = 0;
};
void LogAccess(const AccessLogEntry& entry);

// True if `text` contains a bearer-token-shaped run (exposed for tests).
bool ContainsTokenShape(std::string_view text);

}  // namespace sigil::server
