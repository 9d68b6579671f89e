#include "crypto/frost_group.h"

#include <secp256k1.h>
#include <sodium.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/internal/declassify.h"
#include "crypto/internal/secp256k1_context.h"
#include "crypto/internal/sodium_runtime.h"
#include "crypto/random.h"

namespace sigil::crypto::frost::internal {
namespace {

using ::sigil::crypto::internal::EnsureSodiumInitialized;
using ::sigil::crypto::internal::Secp256k1Context;

std::span<const uint8_t> AsSpan(std::string_view s) { return AsBytes(s); }

// ---------------------------------------------------------------------------
// FROST(Ed25519, SHA-512), RFC 9591 §6.1. Scalars little-endian mod L.

class Ed25519Group final : public Group {
 public:
  Ed25519Group() { EnsureSodiumInitialized(); }

  std::string_view ContextString() const override { return "FROST-ED25519-SHA512-v1"; }
  size_t ElementSize() const override { return crypto_core_ed25519_BYTES; }

  bool IsCanonicalScalar(std::span<const uint8_t> encoded) const override {
    if (encoded.size() != 32) return false;
    // Canonical iff reducing it mod L changes nothing.
    std::array<uint8_t, 64> wide{};
    std::memcpy(wide.data(), encoded.data(), 32);
    Scalar reduced;
    crypto_core_ed25519_scalar_reduce(reduced.bytes.data(), wide.data());
    const bool canonical = sodium_memcmp(reduced.bytes.data(), encoded.data(), 32) == 0;
    SecureWipe(wide);
    return canonical;
  }

  Scalar ScalarFromUint64(uint64_t value) const override {
    Scalar s;
    for (size_t i = 0; i < 8; ++i) s.bytes[i] = static_cast<uint8_t>(value >> (8 * i));
    return s;
  }

  Scalar Add(const Scalar& a, const Scalar& b) const override {
    Scalar r;
    crypto_core_ed25519_scalar_add(r.bytes.data(), a.bytes.data(), b.bytes.data());
    return r;
  }
  Scalar Mul(const Scalar& a, const Scalar& b) const override {
    Scalar r;
    crypto_core_ed25519_scalar_mul(r.bytes.data(), a.bytes.data(), b.bytes.data());
    return r;
  }
  Scalar Negate(const Scalar& a) const override {
    Scalar r;
    crypto_core_ed25519_scalar_negate(r.bytes.data(), a.bytes.data());
    return r;
  }
  absl::StatusOr<Scalar> Invert(const Scalar& a) const override {
    Scalar r;
    if (crypto_core_ed25519_scalar_invert(r.bytes.data(), a.bytes.data()) != 0) {
      return absl::InvalidArgumentError("cannot invert zero");
    }
    return r;
  }
  int Compare(const Scalar& a, const Scalar& b) const override {
    for (size_t i = 32; i-- > 0;) {
      if (a.bytes[i] != b.bytes[i]) return a.bytes[i] < b.bytes[i] ? -1 : 1;
    }
    return 0;
  }

  absl::StatusOr<Element> BaseMul(const Scalar& k) const override {
    Element out(crypto_core_ed25519_BYTES);
    // Fails exactly when k = 0 (the identity).
    int failed = crypto_scalarmult_ed25519_base_noclamp(out.data(), k.bytes.data());
    // A multiple of G is public (a commitment, a verifying share), and so
    // is whether k was zero.
    SIGIL_DECLASSIFY(&failed, sizeof(failed));
    SIGIL_DECLASSIFY(out.data(), out.size());
    if (failed != 0) return absl::InvalidArgumentError("scalar multiple is the identity element");
    return out;
  }
  absl::StatusOr<Element> Mul(const Element& point, const Scalar& k) const override {
    RETURN_IF_ERROR(ValidateElement(point));
    Element out(crypto_core_ed25519_BYTES);
    if (crypto_scalarmult_ed25519_noclamp(out.data(), k.bytes.data(), point.data()) != 0) {
      return absl::InvalidArgumentError("scalar multiple is the identity element");
    }
    return out;
  }
  absl::StatusOr<Element> Sum(std::span<const Element> points) const override {
    if (points.empty()) return absl::InvalidArgumentError("empty sum is the identity element");
    Element acc = points[0];
    for (size_t i = 1; i < points.size(); ++i) {
      // libsodium adds any curve points, the identity included, so an
      // intermediate identity is harmless; only the result is checked.
      if (crypto_core_ed25519_add(acc.data(), acc.data(), points[i].data()) != 0) {
        return absl::InvalidArgumentError("not a curve point");
      }
    }
    if (!crypto_core_ed25519_is_valid_point(acc.data())) {
      return absl::InvalidArgumentError("sum is the identity element");
    }
    return acc;
  }
  absl::Status ValidateElement(std::span<const uint8_t> encoded) const override {
    if (encoded.size() != crypto_core_ed25519_BYTES) {
      return absl::InvalidArgumentError("an Ed25519 element is 32 bytes, got " + std::to_string(encoded.size()));
    }
    // Canonical, on the curve, in the prime-order subgroup, not of small
    // order (so not the identity).
    if (!crypto_core_ed25519_is_valid_point(encoded.data())) {
      return absl::InvalidArgumentError("not a valid Ed25519 element (off the curve, small order or identity)");
    }
    return absl::OkStatus();
  }

  Scalar HashToScalar(std::string_view tag, HashParts parts) const override {
    std::array<uint8_t, 64> digest;
    // H2 is plain SHA-512 so that the result is an RFC 8032 signature.
    Digest(tag == "chal" ? std::string_view() : tag, tag != "chal", parts, digest);
    Scalar s;
    crypto_core_ed25519_scalar_reduce(s.bytes.data(), digest.data());
    SecureWipe(digest);
    return s;
  }
  Bytes Hash(std::string_view tag, HashParts parts) const override {
    Bytes out(64);
    Digest(tag, true, parts, std::span<uint8_t, 64>(out.data(), 64));
    return out;
  }

 private:
  void Digest(std::string_view tag, bool prefixed, HashParts parts, std::span<uint8_t, 64> out) const {
    crypto_hash_sha512_state state;
    crypto_hash_sha512_init(&state);
    if (prefixed) {
      crypto_hash_sha512_update(&state, AsSpan(ContextString()).data(), ContextString().size());
      crypto_hash_sha512_update(&state, AsSpan(tag).data(), tag.size());
    }
    for (const auto& part : parts) crypto_hash_sha512_update(&state, part.data(), part.size());
    crypto_hash_sha512_final(&state, out.data());
    sodium_memzero(&state, sizeof(state));
  }
};

// ---------------------------------------------------------------------------
// FROST(secp256k1, SHA-256), RFC 9591 §6.5. Scalars big-endian mod n, via
// libsecp256k1's public seckey/pubkey API (constant time). That API refuses
// zero as a key, so zero operands take their own (rare) branch.

class Secp256k1Group final : public Group {
 public:
  Secp256k1Group() { EnsureSodiumInitialized(); }

  // libsecp256k1's success bit for an operation on a secret operand: it
  // says only whether the result is zero (or the key invalid), which
  // FROST treats as an error in the open.
  static bool Valid(int result) {
    SIGIL_DECLASSIFY(&result, sizeof(result));
    return result != 0;
  }

  std::string_view ContextString() const override { return "FROST-secp256k1-SHA256-v1"; }
  size_t ElementSize() const override { return 33; }

  bool IsCanonicalScalar(std::span<const uint8_t> encoded) const override {
    if (encoded.size() != 32) return false;
    // No short circuit: the operand may be secret.
    return (sodium_is_zero(encoded.data(), 32) | secp256k1_ec_seckey_verify(Secp256k1Context(), encoded.data())) != 0;
  }

  Scalar ScalarFromUint64(uint64_t value) const override {
    Scalar s;
    for (size_t i = 0; i < 8; ++i) s.bytes[31 - i] = static_cast<uint8_t>(value >> (8 * i));
    return s;
  }

  Scalar Add(const Scalar& a, const Scalar& b) const override {
    if (IsZero(a)) return b;
    if (IsZero(b)) return a;
    Scalar r = a;
    // Fails only when a + b = 0 mod n (both operands are canonical).
    return Valid(secp256k1_ec_seckey_tweak_add(Secp256k1Context(), r.bytes.data(), b.bytes.data())) ? r : Scalar();
  }
  Scalar Mul(const Scalar& a, const Scalar& b) const override {
    if (IsZero(a) || IsZero(b)) return Scalar();
    Scalar r = a;
    return Valid(secp256k1_ec_seckey_tweak_mul(Secp256k1Context(), r.bytes.data(), b.bytes.data())) ? r : Scalar();
  }
  Scalar Negate(const Scalar& a) const override {
    if (IsZero(a)) return Scalar();
    Scalar r = a;
    return Valid(secp256k1_ec_seckey_negate(Secp256k1Context(), r.bytes.data())) ? r : Scalar();
  }
  absl::StatusOr<Scalar> Invert(const Scalar& a) const override {
    if (IsZero(a)) return absl::InvalidArgumentError("cannot invert zero");
    // Fermat: a^(n-2), square-and-multiply over the public exponent.
    static constexpr std::array<uint8_t, 32> kOrderMinus2 = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
        0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x3f};
    Scalar r = ScalarFromUint64(1);
    for (uint8_t byte : kOrderMinus2) {
      for (int bit = 7; bit >= 0; --bit) {
        r = Mul(r, r);
        if ((byte >> bit) & 1) r = Mul(r, a);
      }
    }
    return r;
  }
  int Compare(const Scalar& a, const Scalar& b) const override {
    return std::memcmp(a.bytes.data(), b.bytes.data(), 32);
  }

  absl::StatusOr<Element> BaseMul(const Scalar& k) const override {
    secp256k1_pubkey point;
    if (IsZero(k) || !Valid(secp256k1_ec_pubkey_create(Secp256k1Context(), &point, k.bytes.data()))) {
      return absl::InvalidArgumentError("scalar multiple is the identity element");
    }
    // A multiple of G is public (a commitment, a verifying share).
    SIGIL_DECLASSIFY(&point, sizeof(point));
    return Serialize(point);
  }
  absl::StatusOr<Element> Mul(const Element& encoded, const Scalar& k) const override {
    secp256k1_pubkey point;
    RETURN_IF_ERROR(Parse(encoded, point));
    if (IsZero(k) || !secp256k1_ec_pubkey_tweak_mul(Secp256k1Context(), &point, k.bytes.data())) {
      return absl::InvalidArgumentError("scalar multiple is the identity element");
    }
    return Serialize(point);
  }
  absl::StatusOr<Element> Sum(std::span<const Element> encoded) const override {
    if (encoded.empty()) return absl::InvalidArgumentError("empty sum is the identity element");
    std::vector<secp256k1_pubkey> points(encoded.size());
    std::vector<const secp256k1_pubkey*> terms(encoded.size());
    for (size_t i = 0; i < encoded.size(); ++i) {
      RETURN_IF_ERROR(Parse(encoded[i], points[i]));
      terms[i] = &points[i];
    }
    // One combine over all terms: an intermediate identity is harmless,
    // only an identity result fails.
    secp256k1_pubkey sum;
    if (!secp256k1_ec_pubkey_combine(Secp256k1Context(), &sum, terms.data(), terms.size())) {
      return absl::InvalidArgumentError("sum is the identity element");
    }
    return Serialize(sum);
  }
  absl::Status ValidateElement(std::span<const uint8_t> encoded) const override {
    secp256k1_pubkey point;
    return Parse(encoded, point);
  }

  Scalar HashToScalar(std::string_view tag, HashParts parts) const override {
    // RFC 9380 hash_to_field with expand_message_xmd(SHA-256), L = 48.
    std::array<uint8_t, 48> uniform;
    ExpandMessageXmd(tag, parts, uniform);
    // uniform = hi * 2^192 + lo with hi, lo < 2^192 < n: both canonical
    // scalars, so the 384-bit reduction is two constant-time scalar ops.
    Scalar hi, lo, shift;
    std::memcpy(hi.bytes.data() + 8, uniform.data(), 24);
    std::memcpy(lo.bytes.data() + 8, uniform.data() + 24, 24);
    shift.bytes[7] = 1;  // 2^192, big-endian
    SecureWipe(uniform);
    return Add(Mul(hi, shift), lo);
  }
  Bytes Hash(std::string_view tag, HashParts parts) const override {
    Bytes out(crypto_hash_sha256_BYTES);
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    crypto_hash_sha256_update(&state, AsSpan(ContextString()).data(), ContextString().size());
    crypto_hash_sha256_update(&state, AsSpan(tag).data(), tag.size());
    for (const auto& part : parts) crypto_hash_sha256_update(&state, part.data(), part.size());
    crypto_hash_sha256_final(&state, out.data());
    return out;
  }

 private:
  static absl::Status Parse(std::span<const uint8_t> encoded, secp256k1_pubkey& point) {
    // SerializeElement is SEC1 compressed; the identity has no such encoding.
    if (encoded.size() != 33 || (encoded[0] != 0x02 && encoded[0] != 0x03)) {
      return absl::InvalidArgumentError("a secp256k1 element is 33 bytes, SEC1 compressed");
    }
    if (!secp256k1_ec_pubkey_parse(Secp256k1Context(), &point, encoded.data(), encoded.size())) {
      return absl::InvalidArgumentError("not a valid secp256k1 element (x is not on the curve)");
    }
    return absl::OkStatus();
  }
  static Element Serialize(const secp256k1_pubkey& point) {
    Element out(33);
    size_t len = out.size();
    secp256k1_ec_pubkey_serialize(Secp256k1Context(), out.data(), &len, &point, SECP256K1_EC_COMPRESSED);
    return out;
  }

  // RFC 9380 §5.3.1 with DST = contextString || tag, len_in_bytes = 48.
  void ExpandMessageXmd(std::string_view tag, HashParts parts, std::span<uint8_t, 48> out) const {
    std::string dst_prime = std::string(ContextString()) + std::string(tag);
    dst_prime.push_back(static_cast<char>(dst_prime.size()));
    const std::array<uint8_t, 64> z_pad{};
    const std::array<uint8_t, 3> len_and_zero = {0x00, 0x30, 0x00};
    std::array<uint8_t, 32> b0, b1, b2;
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    crypto_hash_sha256_update(&state, z_pad.data(), z_pad.size());
    for (const auto& part : parts) crypto_hash_sha256_update(&state, part.data(), part.size());
    crypto_hash_sha256_update(&state, len_and_zero.data(), len_and_zero.size());
    crypto_hash_sha256_update(&state, AsSpan(dst_prime).data(), dst_prime.size());
    crypto_hash_sha256_final(&state, b0.data());

    const uint8_t one = 1, two = 2;
    crypto_hash_sha256_init(&state);
    crypto_hash_sha256_update(&state, b0.data(), b0.size());
    crypto_hash_sha256_update(&state, &one, 1);
    crypto_hash_sha256_update(&state, AsSpan(dst_prime).data(), dst_prime.size());
    crypto_hash_sha256_final(&state, b1.data());

    std::array<uint8_t, 32> mixed;
    for (size_t i = 0; i < 32; ++i) mixed[i] = b0[i] ^ b1[i];
    crypto_hash_sha256_init(&state);
    crypto_hash_sha256_update(&state, mixed.data(), mixed.size());
    crypto_hash_sha256_update(&state, &two, 1);
    crypto_hash_sha256_update(&state, AsSpan(dst_prime).data(), dst_prime.size());
    crypto_hash_sha256_final(&state, b2.data());

    std::memcpy(out.data(), b1.data(), 32);
    std::memcpy(out.data() + 32, b2.data(), 16);
    // H3's input is a secret share: every intermediate is wiped.
    sodium_memzero(&state, sizeof(state));
    SecureWipe(b0);
    SecureWipe(b1);
    SecureWipe(b2);
    SecureWipe(mixed);
  }
};

}  // namespace

bool Group::IsZero(const Scalar& a) const {
  // Constant time; whether a scalar is zero is public (a zero nonce,
  // share or product is an error or the identity, never a secret).
  int zero = sodium_is_zero(a.bytes.data(), a.bytes.size());
  SIGIL_DECLASSIFY(&zero, sizeof(zero));
  return zero == 1;
}

absl::StatusOr<Scalar> Group::ParseScalar(std::span<const uint8_t> encoded) const {
  if (!IsCanonicalScalar(encoded)) {
    return absl::InvalidArgumentError("a scalar is 32 bytes below the group order");
  }
  Scalar s;
  std::memcpy(s.bytes.data(), encoded.data(), 32);
  return s;
}

absl::StatusOr<Scalar> ParseSecretScalar(const Group& g, const SecretBytes& secret, std::string_view what) {
  return ParseSecretScalar(g, secret.Reveal(SecretAccess::Get()), what);
}

absl::StatusOr<Scalar> ParseSecretScalar(const Group& g, std::span<const uint8_t> bytes, std::string_view what) {
  // IsCanonicalScalar runs in constant time; only its answer is made public.
  bool canonical = g.IsCanonicalScalar(bytes);
  SIGIL_DECLASSIFY(&canonical, sizeof(canonical));
  if (!canonical) return absl::InvalidArgumentError(std::string(what) + " is not a canonical scalar of the suite");
  Scalar s;
  std::memcpy(s.bytes.data(), bytes.data(), 32);
  return s;
}

Scalar ScalarOf(const Identifier& id) {
  Scalar s;
  s.bytes = id.bytes();
  return s;
}

Scalar RandomNonzeroScalar(const Group& g) {
  for (;;) {
    // 64 fresh random bytes hashed to a scalar: uniform; zero, which has
    // negligible chance, is drawn again.
    SecretBytes wide = RandomSecret(64);
    Scalar a = g.HashToScalar("random", {wide.Reveal(SecretAccess::Get())});
    if (!g.IsZero(a)) return a;
  }
}

Scalar EvaluatePolynomial(const Group& g, std::span<const Scalar> coefficients, const Scalar& x) {
  // Horner from the top coefficient down (no multiplication by a zero
  // accumulator, which the secp256k1 suite would branch on).
  Scalar value = coefficients.back();
  for (size_t k = coefficients.size() - 1; k-- > 0;) value = g.Add(g.Mul(value, x), coefficients[k]);
  return value;
}

absl::StatusOr<Element> EvaluateCommitment(const Group& g, std::span<const Element> commitment, const Scalar& x) {
  Scalar power = g.ScalarFromUint64(1);
  std::vector<Element> terms;
  terms.reserve(commitment.size());
  for (const Element& c : commitment) {
    ASSIGN_OR_RETURN(Element term, g.Mul(c, power));
    terms.push_back(std::move(term));
    power = g.Mul(power, x);
  }
  return g.Sum(terms);
}

const Group& GroupFor(Suite suite) {
  static const Ed25519Group* const kEd25519 = new Ed25519Group();
  static const Secp256k1Group* const kSecp256k1 = new Secp256k1Group();
  return suite == Suite::kEd25519Sha512 ? static_cast<const Group&>(*kEd25519)
                                        : static_cast<const Group&>(*kSecp256k1);
}

}  // namespace sigil::crypto::frost::internal
