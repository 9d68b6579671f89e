// Secp256k1KeyTable: precomputed multiples of one secp256k1 public key, so
// that an ECDSA signature by that key is verified and its recovery id found
// in one pass (about a third of the cost of the 1.5 public-key recoveries
// the generic path needs on average). Used where every signature is checked before
// it is released: an HSM's CKM_ECDSA output (which carries no recovery id) and
// the software signer's verify-before-release.
//
// How: for a low-s signature (r, s) over digest z, R = (z/s)·G + (r/s)·Q is
// summed from fixed-window tables of multiples of G (11-bit windows, 3 MiB,
// shared, built once in ~0.1 s) and
// of Q (this table) with libsecp256k1's public point addition
// (secp256k1_ec_pubkey_combine). The signature is valid and its recovery id
// is R's y parity exactly when x(R) = r. Everything here is public data
// (key, digest, signature), so nothing needs to run in constant time.
//
// A table answers only "confirmed, with this recovery id" or "not
// confirmed"; it never declares a signature invalid. Callers fall back to
// libsecp256k1's recovery when it is not confirmed (this also covers the
// 2^-128-rare x(R) >= n case), so a fault in the table can cost speed, not
// correctness: a wrongly computed point does not have x = r.
//
// Thread-safety: a built table is immutable and may be shared by any number
// of threads. Secp256k1KeyTableCache is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"

namespace sigil::crypto {

class Secp256k1KeyTable {
 public:
  // Multiples d·2^(8j)·Q for 32 windows j and digits d in [1, 255]: 8,160
  // points, 510 KiB, about 20 ms to build. InvalidArgument if `key` is not
  // a point on the curve.
  static absl::StatusOr<std::shared_ptr<const Secp256k1KeyTable>> Build(const Secp256k1PublicKey& key);

  // Builds the shared generator table now (~0.1 s, once per process), so
  // that the first table to be built does not pay for it on a signing path.
  static void WarmUp();

  const Secp256k1PublicKey& public_key() const { return key_; }

  // The recovery id (0 or 1) of the low-s signature r||s over `digest` if it
  // is confirmed as a valid signature by this key; nullopt otherwise (not a
  // valid signature, high s, r or s out of range, or the rare x(R) >= n).
  std::optional<uint8_t> ConfirmRecoveryId(const Hash256& digest, std::span<const uint8_t, 64> rs) const;

  ~Secp256k1KeyTable();

 private:
  struct Multiples;  // libsecp256k1 points, one layout for G's table and Q's
  static const Multiples& Generator();
  Secp256k1KeyTable(const Secp256k1PublicKey& key, std::unique_ptr<const Multiples> multiples);

  Secp256k1PublicKey key_;
  std::unique_ptr<const Multiples> multiples_;
};

// Bounded cache of key tables for keys that sign often. A key's table is
// built on its `min_uses`-th lookup (1: at once), so a key used once does not
// pay the build; at most `capacity` tables are kept, the least recently used
// is dropped and its key starts counting again. Lookup returns null until
// the table exists; the caller then takes the generic path. One thread
// builds a key's table (on its own time, without the lock); concurrent
// lookups of that key take the generic path meanwhile instead of building
// it again (64 signing threads crossing the threshold together would
// otherwise build 64 copies: half a second of two cores).
class Secp256k1KeyTableCache {
 public:
  Secp256k1KeyTableCache(size_t capacity, uint32_t min_uses);

  std::shared_ptr<const Secp256k1KeyTable> Lookup(const Secp256k1PublicKey& key);
  size_t size() const;
  uint64_t builds() const;  // tables built so far (for tests)

 private:
  struct Entry {
    uint32_t uses = 0;
    bool building = false;  // a thread is building `table`
    std::shared_ptr<const Secp256k1KeyTable> table;
    std::list<Secp256k1PublicKey>::iterator lru;  // valid when table is set
  };

  const size_t capacity_;
  const uint32_t min_uses_;
  mutable absl::Mutex mu_;
  // Keys with a use count but no table yet are bounded too (cleared when
  // they outnumber the tables' capacity 16 to 1).
  absl::flat_hash_map<Secp256k1PublicKey, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::list<Secp256k1PublicKey> lru_ ABSL_GUARDED_BY(mu_);  // front = most recent
  uint64_t builds_ ABSL_GUARDED_BY(mu_) = 0;
};

// For signatures made elsewhere (an HSM's CKM_ECDSA) by the key `table`
// holds: like NormalizeAndFindRecoveryId(digest, rs, table.public_key()),
// confirmed through the table first.
absl::StatusOr<RecoverableSignature> NormalizeAndFindRecoveryId(const Hash256& digest, std::span<const uint8_t, 64> rs,
                                                                const Secp256k1KeyTable& table);

// Whether `sig` (low-s, recovery id 0/1) is a valid signature over `digest`
// by `expected` with exactly that recovery id. Uses `table` when it is given
// and holds `expected`; libsecp256k1's recovery otherwise or when the table
// does not confirm.
bool VerifyRecoverable(const Hash256& digest, const RecoverableSignature& sig, const Secp256k1PublicKey& expected,
                       const Secp256k1KeyTable* table);

}  // namespace sigil::crypto
