// Differential fuzzing of the one-pass ECDSA check (crypto/
// secp256k1_key_table.h) against libsecp256k1's public-key recovery. The
// input is a digest and r||s, either taken as is or as a flip mask over a
// real signature by the fixed key (so that valid and almost-valid
// signatures are reached, not only random ones). For every input the table
// path and the generic path must give the same answer, and whatever the
// table confirms on its own must be a signature the library recovers to the
// key with the same recovery id.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "base/secret.h"
#include "crypto/secp256k1.h"
#include "crypto/secp256k1_key_table.h"

namespace {

using namespace sigil;
using namespace sigil::crypto;

struct Fixture {
  SecretBytes key;
  Secp256k1PublicKey pub;
  std::shared_ptr<const Secp256k1KeyTable> table;
};

const Fixture& TheKey() {
  static const Fixture* const fixture = [] {
    std::array<uint8_t, 32> scalar;
    scalar.fill(0x11);  // a fixed test key, public by design
    auto* f = new Fixture{SecretBytes::CopyFrom(scalar), {}, nullptr};
    auto pub = DeriveSecp256k1PublicKey(f->key);
    if (!pub.ok()) std::abort();
    f->pub = *pub;
    auto table = Secp256k1KeyTable::Build(f->pub);
    if (!table.ok()) std::abort();
    f->table = *table;
    return f;
  }();
  return *fixture;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& key = TheKey();
  FuzzedDataProvider in(data, size);
  const bool mutate_real = in.ConsumeBool();
  Hash256 digest{};
  auto digest_bytes = in.ConsumeBytes<uint8_t>(32);
  std::copy(digest_bytes.begin(), digest_bytes.end(), digest.begin());
  std::array<uint8_t, 64> rs{};
  auto rs_bytes = in.ConsumeBytes<uint8_t>(64);
  std::copy(rs_bytes.begin(), rs_bytes.end(), rs.begin());
  if (mutate_real) {
    auto sig = SignRecoverable(key.key, digest);
    if (!sig.ok()) std::abort();
    std::array<uint8_t, 64> real;
    std::copy(sig->r.begin(), sig->r.end(), real.begin());
    std::copy(sig->s.begin(), sig->s.end(), real.begin() + 32);
    for (size_t i = 0; i < rs.size(); ++i) rs[i] ^= real[i];  // all-zero mask: the real signature
  }

  auto generic = NormalizeAndFindRecoveryId(digest, rs, key.pub);
  auto fast = NormalizeAndFindRecoveryId(digest, rs, *key.table);
  if (generic.ok() != fast.ok()) std::abort();
  if (generic.ok() && (generic->r != fast->r || generic->s != fast->s || generic->recovery_id != fast->recovery_id)) {
    std::abort();
  }
  if (auto confirmed = key.table->ConfirmRecoveryId(digest, rs)) {
    // Confirmed as given (so rs was already low-s): exactly the generic answer.
    if (!generic.ok() || generic->recovery_id != *confirmed) std::abort();
    if (!VerifyRecoverable(digest, *generic, key.pub, key.table.get())) std::abort();
  }
  return 0;
}
