#include "core/policy_store.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
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

}  // namespace
}  // namespace sigil::core
