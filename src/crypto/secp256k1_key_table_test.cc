#include "crypto/secp256k1_key_table.h"

#include <secp256k1.h>

#include <atomic>
#include <thread>

#include "crypto/random.h"
#include "gtest/gtest.h"

namespace sigil::crypto {
namespace {

std::array<uint8_t, 64> Rs(const RecoverableSignature& sig) {
  std::array<uint8_t, 64> rs;
  std::copy(sig.r.begin(), sig.r.end(), rs.begin());
  std::copy(sig.s.begin(), sig.s.end(), rs.begin() + 32);
  return rs;
}

// n - s: the same signature with high s (what a token's CKM_ECDSA gives
// half the time).
std::array<uint8_t, 64> HighS(const RecoverableSignature& sig) {
  std::array<uint8_t, 64> rs = Rs(sig);
  const secp256k1_context* ctx = secp256k1_context_static;
  EXPECT_EQ(secp256k1_ec_seckey_negate(ctx, rs.data() + 32), 1);
  return rs;
}

Hash256 RandomDigest() {
  Hash256 digest;
  RandomBytes(digest);
  return digest;
}

struct Signer {
  SecretBytes key;
  Secp256k1PublicKey pub;
  std::shared_ptr<const Secp256k1KeyTable> table;
};

Signer NewSigner() {
  auto key = GenerateSecp256k1PrivateKey();
  EXPECT_TRUE(key.ok());
  auto pub = DeriveSecp256k1PublicKey(*key);
  EXPECT_TRUE(pub.ok());
  auto table = Secp256k1KeyTable::Build(*pub);
  EXPECT_TRUE(table.ok());
  return Signer{std::move(*key), *pub, *table};
}

TEST(Secp256k1KeyTableTest, ConfirmsTheRecoveryIdOfEverySignature) {
  int seen[2] = {0, 0};
  for (int k = 0; k < 25; ++k) {
    Signer signer = NewSigner();
    EXPECT_EQ(signer.table->public_key(), signer.pub);
    for (int i = 0; i < 40; ++i) {
      const Hash256 digest = RandomDigest();
      auto sig = SignRecoverable(signer.key, digest);
      ASSERT_TRUE(sig.ok());
      auto confirmed = signer.table->ConfirmRecoveryId(digest, Rs(*sig));
      ASSERT_TRUE(confirmed.has_value());
      EXPECT_EQ(*confirmed, sig->recovery_id);
      ++seen[sig->recovery_id];
      // A token's high-s form: not confirmed as is; normalised, it gives
      // the same signature the generic path does.
      EXPECT_FALSE(signer.table->ConfirmRecoveryId(digest, HighS(*sig)).has_value());
      for (const auto& rs : {Rs(*sig), HighS(*sig)}) {
        auto fast = NormalizeAndFindRecoveryId(digest, rs, *signer.table);
        ASSERT_TRUE(fast.ok()) << fast.status();
        EXPECT_EQ(fast->r, sig->r);
        EXPECT_EQ(fast->s, sig->s);
        EXPECT_EQ(fast->recovery_id, sig->recovery_id);
      }
      EXPECT_TRUE(VerifyRecoverable(digest, *sig, signer.pub, signer.table.get()));
    }
  }
  // Both parities were exercised.
  EXPECT_GT(seen[0], 100);
  EXPECT_GT(seen[1], 100);
}

TEST(Secp256k1KeyTableTest, DigestsAtAndAboveTheGroupOrder) {
  Signer signer = NewSigner();
  // z = n (so z mod n = 0 and u1 = 0: R comes from the key's table alone),
  // z = n + 1, and the largest 256-bit value.
  Hash256 at_order = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                      0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                      0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
  Hash256 above = at_order;
  above[31] = 0x42;
  Hash256 all_ones;
  all_ones.fill(0xff);
  Hash256 zero{};
  for (const Hash256& digest : {at_order, above, all_ones, zero}) {
    auto sig = SignRecoverable(signer.key, digest);
    ASSERT_TRUE(sig.ok());
    auto confirmed = signer.table->ConfirmRecoveryId(digest, Rs(*sig));
    ASSERT_TRUE(confirmed.has_value());
    EXPECT_EQ(*confirmed, sig->recovery_id);
  }
}

TEST(Secp256k1KeyTableTest, ConfirmsNothingThatIsNotAValidSignatureByTheKey) {
  Signer signer = NewSigner();
  Signer other = NewSigner();
  const Hash256 digest = RandomDigest();
  auto sig = SignRecoverable(signer.key, digest);
  ASSERT_TRUE(sig.ok());
  const std::array<uint8_t, 64> good = Rs(*sig);

  // Another key's table, another digest.
  EXPECT_FALSE(other.table->ConfirmRecoveryId(digest, good).has_value());
  Hash256 changed = digest;
  changed[7] ^= 0x01;
  EXPECT_FALSE(signer.table->ConfirmRecoveryId(changed, good).has_value());
  // Any single flipped bit in r or s (a faulty token).
  for (size_t byte = 0; byte < 64; byte += 5) {
    std::array<uint8_t, 64> faulty = good;
    faulty[byte] ^= static_cast<uint8_t>(1u << (byte % 8));
    EXPECT_FALSE(signer.table->ConfirmRecoveryId(digest, faulty).has_value()) << byte;
    EXPECT_FALSE(NormalizeAndFindRecoveryId(digest, faulty, *signer.table).ok()) << byte;
  }
  // r or s zero, r or s not below n.
  std::array<uint8_t, 64> zero_r = good;
  std::fill(zero_r.begin(), zero_r.begin() + 32, 0);
  std::array<uint8_t, 64> zero_s = good;
  std::fill(zero_s.begin() + 32, zero_s.end(), 0);
  std::array<uint8_t, 64> big_r = good;
  std::fill(big_r.begin(), big_r.begin() + 32, 0xff);
  for (const auto& rs : {zero_r, zero_s, big_r}) {
    EXPECT_FALSE(signer.table->ConfirmRecoveryId(digest, rs).has_value());
    EXPECT_FALSE(NormalizeAndFindRecoveryId(digest, rs, *signer.table).ok());
  }

  // VerifyRecoverable: wrong recovery id, wrong key, and a table for
  // another key (ignored: the generic path answers).
  RecoverableSignature flipped = *sig;
  flipped.recovery_id ^= 1;
  EXPECT_FALSE(VerifyRecoverable(digest, flipped, signer.pub, signer.table.get()));
  EXPECT_FALSE(VerifyRecoverable(digest, *sig, other.pub, other.table.get()));
  EXPECT_TRUE(VerifyRecoverable(digest, *sig, signer.pub, other.table.get()));
  EXPECT_TRUE(VerifyRecoverable(digest, *sig, signer.pub, nullptr));
  EXPECT_FALSE(VerifyRecoverable(digest, flipped, signer.pub, nullptr));
}

TEST(Secp256k1KeyTableTest, BuildRefusesAPointOffTheCurve) {
  Secp256k1PublicKey bogus{};
  bogus[0] = 0x04;
  bogus[64] = 0x01;
  EXPECT_EQ(Secp256k1KeyTable::Build(bogus).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Secp256k1KeyTableCacheTest, BuildsOnTheNthUseAndKeepsTheMostRecent) {
  Signer a = NewSigner();
  Signer b = NewSigner();
  Signer c = NewSigner();
  Secp256k1KeyTableCache cache(/*capacity=*/2, /*min_uses=*/3);
  EXPECT_EQ(cache.Lookup(a.pub), nullptr);
  EXPECT_EQ(cache.Lookup(a.pub), nullptr);
  auto table_a = cache.Lookup(a.pub);
  ASSERT_NE(table_a, nullptr);
  EXPECT_EQ(table_a->public_key(), a.pub);
  EXPECT_EQ(cache.Lookup(a.pub), table_a);  // kept

  for (int i = 0; i < 3; ++i) (void)cache.Lookup(b.pub);
  EXPECT_EQ(cache.size(), 2u);
  (void)cache.Lookup(a.pub);  // a is now the most recent; b the least
  for (int i = 0; i < 2; ++i) EXPECT_EQ(cache.Lookup(c.pub), nullptr);
  ASSERT_NE(cache.Lookup(c.pub), nullptr);  // evicts b
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Lookup(a.pub), table_a);
  // b starts counting again.
  EXPECT_EQ(cache.Lookup(b.pub), nullptr);
  EXPECT_EQ(cache.Lookup(b.pub), nullptr);
  EXPECT_NE(cache.Lookup(b.pub), nullptr);
}

// Many threads looking a key up at once: one of them builds its table, the
// others take the generic path (null) meanwhile rather than build copies;
// every table handed out is that one.
TEST(Secp256k1KeyTableCacheTest, ConcurrentLookupsBuildATableOnce) {
  Signer a = NewSigner();
  Secp256k1KeyTableCache cache(/*capacity=*/4, /*min_uses=*/1);
  constexpr int kThreads = 16;
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<const Secp256k1KeyTable>> seen(kThreads);
  std::atomic<int> ready{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      for (int i = 0; i < 20 && seen[t] == nullptr; ++i) seen[t] = cache.Lookup(a.pub);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(cache.builds(), 1u);
  auto table = cache.Lookup(a.pub);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->public_key(), a.pub);
  for (const auto& s : seen) {
    if (s != nullptr) {
      EXPECT_EQ(s, table);
    }
  }
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.builds(), 1u);
}

}  // namespace
}  // namespace sigil::crypto
