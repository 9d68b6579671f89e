#include "server/nonce_book.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace sigil::server {
namespace {

const std::string kFrom = "0xabc";

TEST(NonceBookTest, ConcurrentSendsGetDistinctNoncesAboveThePendingCount) {
  NonceBook book;
  EXPECT_EQ(book.Next(kFrom, 5), 5u);
  EXPECT_EQ(book.Next(kFrom, 5), 6u);  // the node has not seen 5 yet
  EXPECT_EQ(book.Next(kFrom, 9), 9u);  // the node is ahead (sent elsewhere)
  EXPECT_EQ(book.Next("0xother", 0), 0u);
}

TEST(NonceBookTest, AReleasedNonceIsTakenAgainFirstSoNoGapIsLeft) {
  NonceBook book;
  const uint64_t a = book.Next(kFrom, 10), b = book.Next(kFrom, 10), c = book.Next(kFrom, 10);
  ASSERT_EQ(a, 10u);
  book.Release(kFrom, a);                 // refused by the node while b and c went out
  EXPECT_EQ(book.Next(kFrom, 10), a);     // the gap is filled next
  EXPECT_EQ(book.Next(kFrom, 10), c + 1);
  (void)b;
}

TEST(NonceBookTest, ANonceStillOutIsNeverHandedOutTwice) {
  // The reviewer's race: T1 takes N, T2 takes N+1 and broadcasts, T1 is
  // refused (release N), T3 takes N, T4 must not get N+1 again.
  NonceBook book;
  const uint64_t n = book.Next(kFrom, 20);
  const uint64_t t2 = book.Next(kFrom, 20);
  book.Release(kFrom, n);
  const uint64_t t3 = book.Next(kFrom, 20);
  const uint64_t t4 = book.Next(kFrom, 20);
  EXPECT_EQ(t3, n);
  EXPECT_NE(t4, t2);
  EXPECT_EQ(t4, t2 + 1);
}

TEST(NonceBookTest, ReleasingTheNewestLowersTheMarkThroughReleasedOnes) {
  NonceBook book;
  for (int i = 0; i < 4; ++i) book.Next(kFrom, 0);  // 0..3
  book.Release(kFrom, 2);
  book.Release(kFrom, 3);  // newest: the mark falls to 2
  EXPECT_EQ(book.Next(kFrom, 0), 2u);
  EXPECT_EQ(book.Next(kFrom, 0), 3u);
  EXPECT_EQ(book.Next(kFrom, 0), 4u);
}

TEST(NonceBookTest, AReleasedNonceBelowThePendingCountWasUsedAndIsDropped) {
  NonceBook book;
  for (int i = 0; i < 3; ++i) book.Next(kFrom, 0);  // 0..2
  book.Release(kFrom, 0);
  EXPECT_EQ(book.Next(kFrom, 1), 3u);  // the node already counts nonce 0
  book.Release(kFrom, 7);              // never handed out: ignored
  EXPECT_EQ(book.Next(kFrom, 1), 4u);
}

TEST(NonceBookTest, ManyThreadsNeverShareANonce) {
  NonceBook book;
  constexpr int kThreads = 8, kEach = 500;
  std::vector<std::vector<uint64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        uint64_t n = book.Next(kFrom, 0);
        if (i % 3 == 0) {
          book.Release(kFrom, n);  // refused: handed back, taken again later
        } else {
          got[t].push_back(n);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> all;
  size_t count = 0;
  for (const auto& v : got) {
    count += v.size();
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), count);  // no nonce kept by two sends
  // No gap either: the nonces handed back and not yet taken again come next,
  // and with them the kept ones are 0..top.
  const uint64_t top = *all.rbegin();
  for (uint64_t n = book.Next(kFrom, 0); n <= top; n = book.Next(kFrom, 0)) {
    EXPECT_TRUE(all.insert(n).second) << n;
  }
  EXPECT_EQ(all.size(), top + 1);
}

}  // namespace
}  // namespace sigil::server
