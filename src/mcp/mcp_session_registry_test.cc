#include "mcp/mcp_session_registry.h"

#include <gtest/gtest.h>

#include <set>

namespace sigil::mcp {
namespace {

TEST(McpSessionRegistryTest, CreateFindUpdateRemove) {
  FakeClock clock;
  McpSessionRegistry r(McpServerInfo{}, clock);
  McpSessionState s;
  s.protocol_version = "2025-06-18";
  absl::StatusOr<std::string> id = r.Create("alice", s);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(r.Find(*id, "alice")->protocol_version, "2025-06-18");
  EXPECT_FALSE(r.Find(*id, "bob").has_value());
  s.initialized = true;
  r.Update(*id, "bob", s);  // not bob's: ignored
  EXPECT_FALSE(r.Find(*id, "alice")->initialized);
  r.Update(*id, "alice", s);
  EXPECT_TRUE(r.Find(*id, "alice")->initialized);
  EXPECT_FALSE(r.Remove(*id, "bob"));
  EXPECT_TRUE(r.Remove(*id, "alice"));
  EXPECT_FALSE(r.Find(*id, "alice").has_value());
  EXPECT_EQ(r.size(), 0u);
}

// Two requests of one session served at once: each works on the copy Find
// gave it. notifications/initialized ends first; the tool call, holding the
// copy from before it, must not undo it.
TEST(McpSessionRegistryTest, AStaleCopyDoesNotUndoAnotherRequestsUpdate) {
  FakeClock clock;
  McpSessionRegistry r(McpServerInfo{}, clock);
  McpSessionState s;
  s.initialize_answered = true;
  s.protocol_version = "2025-06-18";
  s.client_name = "agent";
  absl::StatusOr<std::string> id = r.Create("alice", s);
  ASSERT_TRUE(id.ok());
  McpSessionState tool_call_copy = *r.Find(*id, "alice");
  McpSessionState notification_copy = *r.Find(*id, "alice");
  notification_copy.initialized = true;
  r.Update(*id, "alice", notification_copy);
  r.Update(*id, "alice", tool_call_copy);
  McpSessionState now = *r.Find(*id, "alice");
  EXPECT_TRUE(now.initialized);
  EXPECT_TRUE(now.initialize_answered);
  EXPECT_EQ(now.protocol_version, "2025-06-18");
  EXPECT_EQ(now.client_name, "agent");
  McpSessionState blank;  // nor does a copy with fields cleared
  r.Update(*id, "alice", blank);
  EXPECT_TRUE(r.Find(*id, "alice")->initialized);
  EXPECT_EQ(r.Find(*id, "alice")->protocol_version, "2025-06-18");
}

TEST(McpSessionRegistryTest, IdsAreUniqueRandomHex) {
  FakeClock clock;
  McpSessionRegistry r(McpServerInfo{}, clock, McpSessionLimits{2000, 2000, absl::Hours(1)});
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(*r.Create("p", {}));
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(McpSessionRegistryTest, IdleSessionsExpire) {
  FakeClock clock;
  McpSessionRegistry r(McpServerInfo{}, clock, McpSessionLimits{10, 10, absl::Minutes(30)});
  std::string a = *r.Create("p", {});
  std::string b = *r.Create("p", {});
  clock.Advance(absl::Minutes(20));
  EXPECT_TRUE(r.Find(a, "p").has_value());  // touches a
  clock.Advance(absl::Minutes(20));
  EXPECT_TRUE(r.Find(a, "p").has_value());
  EXPECT_FALSE(r.Find(b, "p").has_value());
  clock.Advance(absl::Minutes(31));
  EXPECT_FALSE(r.Remove(a, "p"));
}

TEST(McpSessionRegistryTest, PerPrincipalLimitEvictsThatPrincipalsOldest) {
  FakeClock clock;
  McpSessionRegistry r(McpServerInfo{}, clock, McpSessionLimits{100, 2, absl::Hours(1)});
  std::string other = *r.Create("q", {});
  std::string first = *r.Create("p", {});
  clock.Advance(absl::Seconds(1));
  std::string second = *r.Create("p", {});
  clock.Advance(absl::Seconds(1));
  std::string third = *r.Create("p", {});
  EXPECT_FALSE(r.Find(first, "p").has_value());
  EXPECT_TRUE(r.Find(second, "p").has_value());
  EXPECT_TRUE(r.Find(third, "p").has_value());
  EXPECT_TRUE(r.Find(other, "q").has_value());
}

TEST(McpSessionRegistryTest, GlobalLimitRefusesNewSessions) {
  FakeClock clock;
  McpSessionRegistry r(McpServerInfo{}, clock, McpSessionLimits{2, 2, absl::Hours(1)});
  ASSERT_TRUE(r.Create("a", {}).ok());
  ASSERT_TRUE(r.Create("b", {}).ok());
  absl::StatusOr<std::string> full = r.Create("c", {});
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  clock.Advance(absl::Hours(2));  // idle ones are purged to make room
  EXPECT_TRUE(r.Create("c", {}).ok());
  EXPECT_EQ(r.size(), 1u);
}

}  // namespace
}  // namespace sigil::mcp
