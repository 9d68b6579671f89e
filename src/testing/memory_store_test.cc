#include "testing/memory_store.h"

#include "store/store_contract_test.h"
#include "testing/fault_injecting_store.h"

namespace sigil::store {
namespace {

std::unique_ptr<Store> MakeMemory(const std::string&) { return std::make_unique<MemoryStore>(); }

// A fault injector with no fault planned must be indistinguishable from the
// store it wraps.
class OwningFaultInjector final : public Store {
 public:
  OwningFaultInjector() : faults_(memory_) {}
  absl::StatusOr<std::optional<Bytes>> Get(std::string_view t, std::string_view k) override { return faults_.Get(t, k); }
  absl::StatusOr<std::vector<Entry>> Scan(std::string_view t, const ScanOptions& o) override {
    return faults_.Scan(t, o);
  }
  absl::Status Put(std::string_view t, std::string_view k, std::span<const uint8_t> v) override {
    return faults_.Put(t, k, v);
  }
  absl::Status Delete(std::string_view t, std::string_view k) override { return faults_.Delete(t, k); }
  absl::Status RunTransaction(const TransactionFn& fn) override { return faults_.RunTransaction(fn); }

 private:
  MemoryStore memory_;
  FaultInjectingStore faults_;
};

std::unique_ptr<Store> MakeFaultInjector(const std::string&) { return std::make_unique<OwningFaultInjector>(); }

INSTANTIATE_TEST_SUITE_P(Fakes, StoreContractTest,
                         ::testing::Values(StoreFactory{"memory", MakeMemory},
                                           StoreFactory{"fault_injecting", MakeFaultInjector}),
                         [](const auto& info) { return info.param.name; });

TEST(FaultInjectingStoreTest, FailsOnlyTheNthWrite) {
  MemoryStore memory;
  FaultInjectingStore store(memory);
  store.FailNthWrite(2);
  EXPECT_TRUE(store.Put("t", "a", B("1")).ok());
  absl::Status st = store.Put("t", "b", B("2"));
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(st.message()), ::testing::HasSubstr("injected"));
  EXPECT_TRUE(store.Delete("t", "a").ok());
  EXPECT_FALSE(memory.Get("t", "b")->has_value()) << "the failed write was not forwarded";
  EXPECT_EQ(store.writes_seen(), 3);
  EXPECT_EQ(store.faults_injected(), 1);
}

TEST(FaultInjectingStoreTest, DiskFullUntilHealed) {
  MemoryStore memory;
  FaultInjectingStore store(memory);
  store.FailWritesFrom(1);
  EXPECT_EQ(store.Put("t", "a", B("1")).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store.Put("t", "b", B("1")).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(store.Get("t", "a").ok()) << "reads still work";
  store.Heal();
  EXPECT_TRUE(store.Put("t", "a", B("1")).ok());
  EXPECT_EQ(memory.size(), 1u);
}

TEST(FaultInjectingStoreTest, WriteFailureInsideTransactionRollsBackEarlierWrites) {
  MemoryStore memory;
  FaultInjectingStore store(memory);
  store.FailNthWrite(2);
  absl::Status st = store.RunTransaction([](Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.Put("t", "first", B("1")));
    return tx.Put("t", "second", B("2"));
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(memory.size(), 0u);
}

TEST(FaultInjectingStoreTest, FailedCommitAppliesNothing) {
  MemoryStore memory;
  FaultInjectingStore store(memory);
  store.FailCommitsFrom(2);
  EXPECT_TRUE(store.RunTransaction([](Transaction& tx) { return tx.Put("t", "one", B("1")); }).ok());
  int runs = 0;
  absl::Status st = store.RunTransaction([&](Transaction& tx) {
    ++runs;
    return tx.Put("t", "two", B("2"));
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(memory.Get("t", "one")->has_value());
  EXPECT_FALSE(memory.Get("t", "two")->has_value());
}

TEST(FaultInjectingStoreTest, ReadFaults) {
  MemoryStore memory;
  FaultInjectingStore store(memory);
  ASSERT_TRUE(store.Put("t", "a", B("1")).ok());
  store.FailReads(true);
  EXPECT_EQ(store.Get("t", "a").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store.Scan("t", {}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store.RunTransaction([](Transaction& tx) { return tx.Get("t", "a").status(); }).code(),
            absl::StatusCode::kUnavailable);
  store.FailReads(false);
  EXPECT_TRUE(store.Get("t", "a").ok());
}

}  // namespace
}  // namespace sigil::store
