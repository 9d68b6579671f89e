#include "core/policy_store.h"

#include <gtest/gtest.h>

#include "base/hex.h"
#include "crypto/aead.h"
#include "crypto/random.h"
#include "nlohmann/json.hpp"
#include "testing/memory_store.h"

namespace sigil::core {
namespace {

constexpr char kDoc[] = R"({"version":1,"rules":[{"id":"r","effect":"allow","match":{"kind":"eth_message"}}]})";

TEST(PolicyStore, AppliesVersionsAndReloadsThem) {
  store::MemoryStore store;
  FakeClock clock;
  SecretBytes key = crypto::RandomSecret(32);
  auto ps = PolicyStore::Open(store, key.Clone(), clock);
  ASSERT_TRUE(ps.ok()) << ps.status();
  EXPECT_EQ((*ps)->Current().version, 0u);  // deny-all default
  auto applied = (*ps)->Apply(kDoc, "admin");
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(applied->version, 1u);
  EXPECT_EQ(applied->hash_hex.size(), 64u);
  auto again = PolicyStore::Open(store, key.Clone(), clock);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Current().version, 1u);
  EXPECT_EQ((*again)->Current().hash_hex, applied->hash_hex);
}

TEST(PolicyStore, InvalidDocumentIsRejectedWholeAndTheOldOneStays) {
  store::MemoryStore store;
  FakeClock clock;
  auto ps = *PolicyStore::Open(store, crypto::RandomSecret(32), clock);
  ASSERT_TRUE(ps->Apply(kDoc, "admin").ok());
  auto bad = ps->Apply(R"({"version":1,"rules":[{"id":"x","effect":"allow","match":{"value":{"lte":0.5}}}]})", "admin");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(bad.status().message()).find("rules[0]"), std::string::npos) << bad.status();
  EXPECT_EQ(ps->Current().version, 1u);
}

TEST(PolicyStore, ARowEditedOnDiskIsRefusedByName) {
  store::MemoryStore store;
  FakeClock clock;
  SecretBytes key = crypto::RandomSecret(32);
  ASSERT_TRUE((*PolicyStore::Open(store, key.Clone(), clock))->Apply(kDoc, "admin").ok());
  auto rows = *store.Scan(PolicyStore::kTable, {});
  ASSERT_EQ(rows.size(), 1u);
  rows[0].value[rows[0].value.size() / 2] ^= 0x01;
  ASSERT_TRUE(store.Put(PolicyStore::kTable, rows[0].key, rows[0].value).ok());
  auto reopened = PolicyStore::Open(store, key.Clone(), clock);
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(reopened.status().message()).find(rows[0].key), std::string::npos);
  // A row sealed under another key (a swapped database) is refused too.
  store::MemoryStore other;
  ASSERT_TRUE((*PolicyStore::Open(other, crypto::RandomSecret(32), clock))->Apply(kDoc, "admin").ok());
  EXPECT_EQ(PolicyStore::Open(other, key.Clone(), clock).status().code(), absl::StatusCode::kDataLoss);
}

// A policy an earlier release accepted and stored (here: a max_value budget
// in a rule with no kind, which now mixes wei and lamports and is refused
// when applied) still loads at start: the daemon must not refuse to start
// over its own history.
TEST(PolicyStore, AStoredPolicyAnEarlierReleaseAcceptedStillLoads) {
  constexpr char kOld[] = R"({"version":1,"rules":[{"id":"any","effect":"allow","match":{},
    "budgets":[{"window":"24h","max_value":"1 ether","on_exceed":"deny"}]}]})";
  store::MemoryStore store;
  FakeClock clock;
  SecretBytes key = crypto::RandomSecret(32);
  auto ps = *PolicyStore::Open(store, key.Clone(), clock);
  EXPECT_EQ(ps->Apply(kOld, "admin").status().code(), absl::StatusCode::kInvalidArgument);  // strict now
  // The row an earlier release wrote for it, sealed as Apply seals.
  const std::string row_key = "00000000000000000001";
  const std::string text = nlohmann::json{{"version", 1}, {"applied_by", "admin"}, {"applied_at_ms", 0},
                                          {"document", kOld}}.dump();
  auto sealed = crypto::AeadSeal(key, AsBytes(text), AsBytes(std::string(PolicyStore::kTable) + ":" + row_key));
  ASSERT_TRUE(sealed.ok());
  ASSERT_TRUE(store.Put(PolicyStore::kTable, row_key, *sealed).ok());
  auto reopened = PolicyStore::Open(store, key.Clone(), clock);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->Current().version, 1u);
}

}  // namespace
}  // namespace sigil::core
