// The behaviour every Store implementation must show (store.h), as a
// value-parameterised GoogleTest suite. A test binary includes this header
// and instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
//                            ::testing::Values(StoreFactory{"sqlite", MakeSqlite}),
//                            [](const auto& info) { return info.param.name; });
#pragma once

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/store.h"

namespace sigil::store {

struct StoreFactory {
  std::string name;
  // Makes a fresh, empty store whose files (if any) live under `dir`.
  std::function<std::unique_ptr<Store>(const std::string& dir)> make;
};

inline void PrintTo(const StoreFactory& f, std::ostream* os) { *os << f.name; }

inline Bytes B(std::string_view s) { return Bytes(s.begin(), s.end()); }

class StoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sigil-store-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    store_ = GetParam().make(dir_);
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreContractTest, GetOfMissingKeyIsNullopt) {
  auto got = store_->Get("t", "missing");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->has_value());
}

TEST_P(StoreContractTest, PutGetDeleteRoundTrip) {
  ASSERT_TRUE(store_->Put("t", "k", B("v1")).ok());
  EXPECT_EQ(**store_->Get("t", "k"), B("v1"));
  ASSERT_TRUE(store_->Put("t", "k", B("v2")).ok());
  EXPECT_EQ(**store_->Get("t", "k"), B("v2"));
  ASSERT_TRUE(store_->Delete("t", "k").ok());
  EXPECT_FALSE(store_->Get("t", "k")->has_value());
  EXPECT_TRUE(store_->Delete("t", "k").ok()) << "deleting a missing key is not an error";
}

TEST_P(StoreContractTest, EmptyAndBinaryValuesSurvive) {
  ASSERT_TRUE(store_->Put("t", "empty", Bytes{}).ok());
  auto got = store_->Get("t", "empty");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_TRUE((*got)->empty());
  Bytes binary = {0, 1, 0xff, 0, 0x80};
  std::string binary_key("\x00\xff\x01", 3);
  ASSERT_TRUE(store_->Put("t", binary_key, binary).ok());
  EXPECT_EQ(**store_->Get("t", binary_key), binary);
}

TEST_P(StoreContractTest, TablesAreSeparate) {
  ASSERT_TRUE(store_->Put("a", "k", B("in a")).ok());
  ASSERT_TRUE(store_->Put("b", "k", B("in b")).ok());
  EXPECT_EQ(**store_->Get("a", "k"), B("in a"));
  EXPECT_EQ(**store_->Get("b", "k"), B("in b"));
  EXPECT_EQ(store_->Scan("a", {})->size(), 1u);
}

TEST_P(StoreContractTest, ScanIsOrderedByUnsignedBytesAndHonoursPrefix) {
  for (const std::string& k : std::vector<std::string>{"b/2", "a/1", "b/1", "c", std::string("b/\xff", 3), "b", "b0"}) {
    ASSERT_TRUE(store_->Put("t", k, B(k)).ok());
  }
  auto all = store_->Scan("t", {});
  ASSERT_TRUE(all.ok());
  std::vector<std::string> keys;
  for (const auto& e : *all) keys.push_back(e.key);
  EXPECT_THAT(keys, ::testing::ElementsAre("a/1", "b", "b/1", "b/2", std::string("b/\xff", 3), "b0", "c"));

  ScanOptions prefix;
  prefix.prefix = "b/";
  keys.clear();
  auto scanned = store_->Scan("t", prefix);
  ASSERT_TRUE(scanned.ok());
  for (const auto& e : *scanned) keys.push_back(e.key);
  EXPECT_THAT(keys, ::testing::ElementsAre("b/1", "b/2", std::string("b/\xff", 3)));
}

TEST_P(StoreContractTest, ScanPagesWithStartAfterAndLimit) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store_->Put("t", "k" + std::to_string(i), B("x")).ok());
  ASSERT_TRUE(store_->Put("t", "other", B("x")).ok());
  ScanOptions page;
  page.prefix = "k";
  page.limit = 4;
  std::vector<std::string> seen;
  while (true) {
    auto got = store_->Scan("t", page);
    ASSERT_TRUE(got.ok());
    for (const auto& e : *got) seen.push_back(e.key);
    if (got->size() < page.limit) break;
    page.start_after = got->back().key;
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen.front(), "k0");
  EXPECT_EQ(seen.back(), "k9");
  // start_after before the prefix range does not widen the scan.
  ScanOptions early;
  early.prefix = "k";
  early.start_after = "a";
  EXPECT_EQ(store_->Scan("t", early)->size(), 10u);
}

TEST_P(StoreContractTest, TransactionCommitsAllWritesAndSeesItsOwn) {
  ASSERT_TRUE(store_->Put("t", "gone", B("x")).ok());
  absl::Status st = store_->RunTransaction([](Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.Put("t", "a", B("1")));
    RETURN_IF_ERROR(tx.Put("t", "b", B("2")));
    RETURN_IF_ERROR(tx.Delete("t", "gone"));
    ASSIGN_OR_RETURN(auto a, tx.Get("t", "a"));
    if (!a.has_value() || *a != B("1")) return absl::InternalError("own write not visible");
    ASSIGN_OR_RETURN(auto gone, tx.Get("t", "gone"));
    if (gone.has_value()) return absl::InternalError("own delete not visible");
    ASSIGN_OR_RETURN(auto scan, tx.Scan("t", {}));
    if (scan.size() != 2) return absl::InternalError("own writes not in scan");
    return absl::OkStatus();
  });
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(**store_->Get("t", "a"), B("1"));
  EXPECT_EQ(**store_->Get("t", "b"), B("2"));
  EXPECT_FALSE(store_->Get("t", "gone")->has_value());
}

TEST_P(StoreContractTest, FailedTransactionAppliesNothing) {
  ASSERT_TRUE(store_->Put("t", "keep", B("old")).ok());
  absl::Status st = store_->RunTransaction([](Transaction& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.Put("t", "keep", B("new")));
    RETURN_IF_ERROR(tx.Put("t", "added", B("x")));
    RETURN_IF_ERROR(tx.Delete("t", "keep"));
    return absl::AbortedError("caller changed its mind");
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(std::string(st.message()), "caller changed its mind");
  EXPECT_EQ(**store_->Get("t", "keep"), B("old"));
  EXPECT_FALSE(store_->Get("t", "added")->has_value());
  // The store is usable afterwards.
  EXPECT_TRUE(store_->RunTransaction([](Transaction& tx) { return tx.Put("t", "after", B("y")); }).ok());
  EXPECT_TRUE(store_->Get("t", "after")->has_value());
}

TEST_P(StoreContractTest, RejectsBadNamesAndSizes) {
  EXPECT_EQ(store_->Put("", "k", B("v")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Put("Bad-Name", "k", B("v")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Put("t", "", B("v")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Put("t", std::string(kMaxKeySize + 1, 'k'), B("v")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Put("t", "k", Bytes(kMaxValueSize + 1)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Get("t", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Scan("9t", {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->Put("t", std::string(kMaxKeySize, 'k'), B("v")).ok());
}

// Read-modify-write transactions from many threads never lose an update.
TEST_P(StoreContractTest, ConcurrentIncrementsAreSerializable) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::Status st = store_->RunTransaction([](Transaction& tx) -> absl::Status {
          ASSIGN_OR_RETURN(auto v, tx.Get("counter", "n"));
          int n = v.has_value() ? std::stoi(std::string(v->begin(), v->end())) : 0;
          return tx.Put("counter", "n", B(std::to_string(n + 1)));
        });
        if (!st.ok()) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto v = store_->Get("counter", "n");
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ(std::string((*v)->begin(), (*v)->end()), std::to_string(kThreads * kPerThread));
}

}  // namespace sigil::store
