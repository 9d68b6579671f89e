#include "mcp/mcp_session_registry.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdint>

#include "base/hex.h"

namespace sigil::mcp {
namespace {

absl::StatusOr<std::string> NewSessionId() {
  std::array<uint8_t, 32> bytes{};
  size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t n = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError("cannot read the system random number generator for a session id");
    }
    filled += static_cast<size_t>(n);
  }
  return HexEncode(bytes);
}

}  // namespace

McpSessionRegistry::McpSessionRegistry(McpServerInfo info, const Clock& clock, McpSessionLimits limits)
    : info_(std::move(info)), clock_(clock), limits_(limits) {}

void McpSessionRegistry::PurgeIdleLocked(absl::Time now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (now - it->second.last_used >= limits_.idle_timeout) {
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

absl::StatusOr<std::string> McpSessionRegistry::Create(const std::string& principal, const McpSessionState& state) {
  absl::StatusOr<std::string> id = NewSessionId();
  if (!id.ok()) return id.status();
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  PurgeIdleLocked(now);
  // Make room among this principal's own sessions first: a client that
  // forgets to DELETE its sessions only ever displaces its own.
  size_t mine = 0;
  auto oldest = sessions_.end();
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->second.principal != principal) continue;
    ++mine;
    if (oldest == sessions_.end() || it->second.last_used < oldest->second.last_used) oldest = it;
  }
  if (mine >= limits_.max_sessions_per_principal && oldest != sessions_.end()) sessions_.erase(oldest);
  if (sessions_.size() >= limits_.max_sessions) {
    return absl::ResourceExhaustedError("too many MCP sessions are open; try again later");
  }
  sessions_[*id] = Entry{principal, state, now};
  return id;
}

std::optional<McpSessionState> McpSessionRegistry::Find(const std::string& id, const std::string& principal) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.principal != principal) return std::nullopt;
  if (now - it->second.last_used >= limits_.idle_timeout) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_used = now;
  return it->second.state;
}

void McpSessionRegistry::Update(const std::string& id, const std::string& principal, const McpSessionState& state) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.principal != principal) return;
  // A session's state only moves forward (initialize answered, then
  // initialized). Requests served at once each hold a copy taken by Find:
  // merge, so the one that ends last cannot undo what another recorded.
  McpSessionState& s = it->second.state;
  s.initialize_answered = s.initialize_answered || state.initialize_answered;
  s.initialized = s.initialized || state.initialized;
  if (s.protocol_version.empty()) s.protocol_version = state.protocol_version;
  if (s.client_name.empty()) s.client_name = state.client_name;
}

bool McpSessionRegistry::Remove(const std::string& id, const std::string& principal) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.principal != principal) return false;
  const bool live = now - it->second.last_used < limits_.idle_timeout;
  sessions_.erase(it);
  return live;
}

size_t McpSessionRegistry::size() const {
  absl::MutexLock lock(&mu_);
  return sessions_.size();
}

}  // namespace sigil::mcp
