#include "crypto/secp256k1_key_table.h"

#include <gmp.h>
#include <secp256k1.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "base/status.h"
#include "crypto/internal/secp256k1_context.h"

namespace sigil::crypto {
namespace {

using internal::Secp256k1Context;

// The group order n of secp256k1, big-endian.
constexpr std::array<uint8_t, 32> kOrder = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                            0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                            0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
// The generator G, uncompressed.
constexpr std::array<uint8_t, 65> kGenerator = {
    0x04, 0x79, 0xbe, 0x66, 0x7e, 0xf9, 0xdc, 0xbb, 0xac, 0x55, 0xa0, 0x62, 0x95, 0xce, 0x87, 0x0b, 0x07,
    0x02, 0x9b, 0xfc, 0xdb, 0x2d, 0xce, 0x28, 0xd9, 0x59, 0xf2, 0x81, 0x5b, 0x16, 0xf8, 0x17, 0x98, 0x48,
    0x3a, 0xda, 0x77, 0x26, 0xa3, 0xc4, 0x65, 0x5d, 0xa4, 0xfb, 0xfc, 0x0e, 0x11, 0x08, 0xa8, 0xfd, 0x17,
    0xb4, 0x48, 0xa6, 0x85, 0x54, 0x19, 0x9c, 0x47, 0xd0, 0x8f, 0xfb, 0x10, 0xd4, 0xb8};

constexpr int kScalarBits = 256;
// Window widths. G's table is one per process, so it can be wide: 11 bits,
// 24 windows of 2,047 points (3 MiB, built once in ~0.1 s). A key's: 8 bits,
// 32 windows of 255 points (510 KiB, ~20 ms; the cache builds it only for
// keys in use). A check sums at most 24 + 32 points.
constexpr int kGeneratorWindowBits = 11;
constexpr int kKeyWindowBits = 8;

// Bits [first, first + count) of a 256-bit big-endian scalar.
uint32_t ScalarBits(const std::array<uint8_t, 32>& scalar, int first, int count) {
  uint32_t digit = 0;
  for (int i = count - 1; i >= 0; --i) {
    const int bit = first + i;
    digit <<= 1;
    if (bit < kScalarBits) digit |= (scalar[31 - bit / 8] >> (bit % 8)) & 1;
  }
  return digit;
}

bool Add(const secp256k1_pubkey& a, const secp256k1_pubkey& b, secp256k1_pubkey* sum) {
  const secp256k1_pubkey* const terms[] = {&a, &b};
  return secp256k1_ec_pubkey_combine(Secp256k1Context(), sum, terms, 2) == 1;
}

// u1 = z/s and u2 = r/s mod n, for public values only (GMP's variable-time
// integers: under 1 us here, against ~7 us with Crypto++'s Integer and ~14 us
// with OpenSSL's BN_mod_inverse). One working set per thread, reused.
class ScalarQuotients {
 public:
  static ScalarQuotients& ForThisThread() {
    thread_local ScalarQuotients quotients;
    return quotients;
  }

  // False if r or s is zero or not below n.
  bool Compute(const Hash256& digest, std::span<const uint8_t, 64> rs, std::array<uint8_t, 32>* u1,
               std::array<uint8_t, 32>* u2) {
    mpz_import(r_, 32, 1, 1, 1, 0, rs.data());
    mpz_import(s_, 32, 1, 1, 1, 0, rs.data() + 32);
    if (mpz_sgn(r_) == 0 || mpz_sgn(s_) == 0 || mpz_cmp(r_, n_) >= 0 || mpz_cmp(s_, n_) >= 0) return false;
    if (mpz_invert(w_, s_, n_) == 0) return false;
    mpz_import(z_, digest.size(), 1, 1, 1, 0, digest.data());
    mpz_mod(z_, z_, n_);  // as ECDSA (and libsecp256k1) reduces the digest
    Product(z_, u1);
    Product(r_, u2);
    return true;
  }

  ScalarQuotients(const ScalarQuotients&) = delete;
  ScalarQuotients& operator=(const ScalarQuotients&) = delete;

 private:
  ScalarQuotients() {
    mpz_inits(n_, r_, s_, w_, z_, product_, nullptr);
    mpz_import(n_, kOrder.size(), 1, 1, 1, 0, kOrder.data());
  }
  ~ScalarQuotients() { mpz_clears(n_, r_, s_, w_, z_, product_, nullptr); }

  // a·w mod n as 32 big-endian bytes.
  void Product(const mpz_t a, std::array<uint8_t, 32>* out) {
    mpz_mul(product_, a, w_);
    mpz_mod(product_, product_, n_);
    out->fill(0);
    const size_t length = (mpz_sizeinbase(product_, 2) + 7) / 8;  // <= 32 since the value is below n
    size_t written = 0;
    if (mpz_sgn(product_) != 0) mpz_export(out->data() + (32 - length), &written, 1, 1, 1, 0, product_);
  }

  mpz_t n_, r_, s_, w_, z_, product_;
};

}  // namespace

// Fixed-window multiples of a base point B: points[j * digits + d - 1] =
// d·2^(bits·j)·B for every window j and digit d in [1, 2^bits).
struct Secp256k1KeyTable::Multiples {
  int bits = 0;
  int windows = 0;
  int digits = 0;  // 2^bits - 1
  std::vector<secp256k1_pubkey> points;

  static std::unique_ptr<const Multiples> Of(const secp256k1_pubkey& base, int bits) {
    auto m = std::make_unique<Multiples>();
    m->bits = bits;
    m->windows = (kScalarBits + bits - 1) / bits;
    m->digits = (1 << bits) - 1;
    m->points.resize(static_cast<size_t>(m->windows) * m->digits);
    secp256k1_pubkey window_base = base;  // 2^(bits·j)·B
    for (int j = 0; j < m->windows; ++j) {
      secp256k1_pubkey* row = &m->points[static_cast<size_t>(j) * m->digits];
      row[0] = window_base;
      for (int d = 1; d < m->digits; ++d) {
        // d·2^(bits·j)·B is never the point at infinity (n is prime and
        // larger than every factor), so combine cannot fail here.
        if (!Add(row[d - 1], window_base, &row[d])) return nullptr;
      }
      // (combine clears its output first, so it must not alias an input.)
      secp256k1_pubkey next;
      if (j + 1 < m->windows && !Add(row[m->digits - 1], window_base, &next)) return nullptr;
      window_base = next;
    }
    return m;
  }

  // Appends the points whose sum is scalar·B (nothing for a zero scalar).
  void AppendTerms(const std::array<uint8_t, 32>& scalar, std::vector<const secp256k1_pubkey*>* terms) const {
    for (int j = 0; j < windows; ++j) {
      const uint32_t d = ScalarBits(scalar, j * bits, bits);
      if (d != 0) terms->push_back(&points[static_cast<size_t>(j) * digits + d - 1]);
    }
  }
};

const Secp256k1KeyTable::Multiples& Secp256k1KeyTable::Generator() {
  static const Multiples* const generator = [] {
    secp256k1_pubkey g;
    std::unique_ptr<const Multiples> m;
    if (secp256k1_ec_pubkey_parse(Secp256k1Context(), &g, kGenerator.data(), kGenerator.size())) {
      m = Multiples::Of(g, kGeneratorWindowBits);
    }
    if (m == nullptr) {
      std::fputs("sigil: cannot build the secp256k1 generator table\n", stderr);
      std::abort();
    }
    return m.release();
  }();
  return *generator;
}

void Secp256k1KeyTable::WarmUp() { (void)Generator(); }

Secp256k1KeyTable::Secp256k1KeyTable(const Secp256k1PublicKey& key, std::unique_ptr<const Multiples> multiples)
    : key_(key), multiples_(std::move(multiples)) {}

Secp256k1KeyTable::~Secp256k1KeyTable() = default;

absl::StatusOr<std::shared_ptr<const Secp256k1KeyTable>> Secp256k1KeyTable::Build(const Secp256k1PublicKey& key) {
  secp256k1_pubkey q;
  if (!secp256k1_ec_pubkey_parse(Secp256k1Context(), &q, key.data(), key.size())) {
    return absl::InvalidArgumentError("not a secp256k1 public key (65-byte uncompressed point expected)");
  }
  auto multiples = Multiples::Of(q, kKeyWindowBits);
  if (multiples == nullptr) return absl::InternalError("cannot build the secp256k1 key table");
  // G's table is built once, here rather than inside the first check.
  (void)Generator();
  return std::shared_ptr<const Secp256k1KeyTable>(new Secp256k1KeyTable(key, std::move(multiples)));
}

std::optional<uint8_t> Secp256k1KeyTable::ConfirmRecoveryId(const Hash256& digest,
                                                            std::span<const uint8_t, 64> rs) const {
  // Low s only: the recovery id is defined for the signature as released.
  secp256k1_ecdsa_signature parsed;
  if (!secp256k1_ecdsa_signature_parse_compact(Secp256k1Context(), &parsed, rs.data())) return std::nullopt;
  if (secp256k1_ecdsa_signature_normalize(Secp256k1Context(), nullptr, &parsed)) return std::nullopt;
  std::array<uint8_t, 32> u1;
  std::array<uint8_t, 32> u2;
  if (!ScalarQuotients::ForThisThread().Compute(digest, rs, &u1, &u2)) return std::nullopt;
  std::vector<const secp256k1_pubkey*> terms;
  terms.reserve(Generator().windows + multiples_->windows);
  Generator().AppendTerms(u1, &terms);
  multiples_->AppendTerms(u2, &terms);
  // The points are scattered over a few MiB of tables: ask for all of them
  // before the sum walks them one by one, so the cache misses overlap.
  for (const secp256k1_pubkey* term : terms) __builtin_prefetch(term);
  secp256k1_pubkey point;
  // combine fails only for an empty sum or the point at infinity: no R.
  if (terms.empty() || !secp256k1_ec_pubkey_combine(Secp256k1Context(), &point, terms.data(), terms.size())) {
    return std::nullopt;
  }
  std::array<uint8_t, 33> compressed;
  size_t length = compressed.size();
  if (!secp256k1_ec_pubkey_serialize(Secp256k1Context(), compressed.data(), &length, &point, SECP256K1_EC_COMPRESSED) ||
      length != compressed.size()) {
    return std::nullopt;
  }
  if (!std::equal(compressed.begin() + 1, compressed.end(), rs.begin())) return std::nullopt;
  return static_cast<uint8_t>(compressed[0] == 0x03 ? 1 : 0);
}

Secp256k1KeyTableCache::Secp256k1KeyTableCache(size_t capacity, uint32_t min_uses)
    : capacity_(std::max<size_t>(capacity, 1)), min_uses_(std::max<uint32_t>(min_uses, 1)) {}

size_t Secp256k1KeyTableCache::size() const {
  absl::MutexLock lock(&mu_);
  return lru_.size();
}

uint64_t Secp256k1KeyTableCache::builds() const {
  absl::MutexLock lock(&mu_);
  return builds_;
}

std::shared_ptr<const Secp256k1KeyTable> Secp256k1KeyTableCache::Lookup(const Secp256k1PublicKey& key) {
  {
    absl::MutexLock lock(&mu_);
    if (entries_.size() > 16 * capacity_ + lru_.size()) {
      // Too many keys counted that never reached min_uses: start over,
      // keeping the built tables.
      for (auto it = entries_.begin(); it != entries_.end();) {
        auto next = std::next(it);
        if (it->second.table == nullptr) entries_.erase(it);
        it = next;
      }
    }
    Entry& entry = entries_[key];
    if (entry.table != nullptr) {
      lru_.splice(lru_.begin(), lru_, entry.lru);
      return entry.table;
    }
    if (++entry.uses < min_uses_ || entry.building) return nullptr;
    entry.building = true;
  }
  // Built without the lock (milliseconds) by this thread only.
  auto built = Secp256k1KeyTable::Build(key);
  absl::MutexLock lock(&mu_);
  ++builds_;
  Entry& entry = entries_[key];  // may have been dropped meanwhile: then made anew
  entry.building = false;
  if (!built.ok()) return nullptr;
  if (entry.table != nullptr) return entry.table;
  entry.table = *built;
  lru_.push_front(key);
  entry.lru = lru_.begin();
  if (lru_.size() > capacity_) {
    entries_.erase(lru_.back());  // its use count starts again
    lru_.pop_back();
  }
  return *built;
}

absl::StatusOr<RecoverableSignature> NormalizeAndFindRecoveryId(const Hash256& digest, std::span<const uint8_t, 64> rs,
                                                                const Secp256k1KeyTable& table) {
  using Compact = std::array<uint8_t, 64>;
  ASSIGN_OR_RETURN(const Compact normalized, NormalizeLowS(rs));
  const std::optional<uint8_t> recovery_id = table.ConfirmRecoveryId(digest, normalized);
  if (!recovery_id.has_value()) return NormalizeAndFindRecoveryId(digest, rs, table.public_key());
  return WithRecoveryId(normalized, *recovery_id);
}

bool VerifyRecoverable(const Hash256& digest, const RecoverableSignature& sig, const Secp256k1PublicKey& expected,
                       const Secp256k1KeyTable* table) {
  if (table != nullptr && table->public_key() == expected) {
    std::array<uint8_t, 64> rs;
    std::copy(sig.r.begin(), sig.r.end(), rs.begin());
    std::copy(sig.s.begin(), sig.s.end(), rs.begin() + 32);
    if (table->ConfirmRecoveryId(digest, rs) == sig.recovery_id) return true;
  }
  auto recovered = RecoverPublicKey(digest, sig);
  return recovered.ok() && *recovered == expected;
}

}  // namespace sigil::crypto
