// McpSessionRegistry: the sessions of the MCP streamable HTTP transport.
//
// A session is created when an initialize request succeeds; its id (64 hex
// characters from the OS CSPRNG, getrandom(2)) goes back in the
// Mcp-Session-Id header and must accompany every later request. Each session
// is bound to the principal that created it: a request from another
// principal carrying the id is treated exactly like an unknown id, so a
// leaked session id is useless without the bearer token that made it.
// Sessions hold no credentials; only the negotiated protocol state.
//
// Bounds: at most `max_sessions` live sessions (Create fails with
// ResourceExhausted beyond that) and `max_sessions_per_principal` per
// principal (the least recently used one of that principal is dropped to make
// room). A session unused for `idle_timeout` is gone.
//
// Thread-safety: all methods are thread-safe; no lock is held while a
// request is being served.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include <unordered_map>
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "mcp/mcp_server.h"

namespace sigil::mcp {

struct McpSessionLimits {
  size_t max_sessions = 1024;
  size_t max_sessions_per_principal = 16;
  absl::Duration idle_timeout = absl::Hours(1);
};

class McpSessionRegistry {
 public:
  // `clock` is borrowed and must outlive the registry.
  McpSessionRegistry(McpServerInfo info, const Clock& clock, McpSessionLimits limits = {});

  // A new session for `principal`; returns its id. ResourceExhausted when
  // the registry is full, Internal if the CSPRNG fails.
  absl::StatusOr<std::string> Create(const std::string& principal, const McpSessionState& state);
  // The session's state, and marks it used; nullopt when the id is unknown,
  // idle too long, or belongs to another principal.
  std::optional<McpSessionState> Find(const std::string& id, const std::string& principal);
  // Records the state after a request; no-op if the session is gone. Merged,
  // not stored: a flag set by one request stays set whatever the copy of a
  // request served at the same time says, and the negotiated version and
  // client name, once set, stay.
  void Update(const std::string& id, const std::string& principal, const McpSessionState& state);
  // Ends a session; false when Find would not have found it.
  bool Remove(const std::string& id, const std::string& principal);

  size_t size() const;
  const McpServerInfo& server_info() const { return info_; }
  const Clock& clock() const { return clock_; }

 private:
  struct Entry {
    std::string principal;
    McpSessionState state;
    absl::Time last_used;
  };
  void PurgeIdleLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const McpServerInfo info_;
  const Clock& clock_;
  const McpSessionLimits limits_;
  mutable absl::Mutex mu_;
  std::unordered_map<std::string, Entry> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sigil::mcp
