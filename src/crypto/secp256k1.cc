#include "crypto/secp256k1.h"

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_recovery.h>
#include <secp256k1_schnorrsig.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <string>

#include "base/status.h"
#include "crypto/internal/declassify.h"
#include "crypto/internal/secp256k1_context.h"
#include "crypto/random.h"

namespace sigil::crypto {
namespace {

const secp256k1_context* Context() { return internal::Secp256k1Context(); }

// The 32 key bytes, read in place from locked memory (never copied out).
const uint8_t* KeyBytes(const SecretBytes& key) { return key.Reveal(SecretAccess::Get()).data(); }

// Messages never contain key material, only what is wrong with it.
absl::Status CheckPrivateKey(const SecretBytes& key) {
  if (key.size() != 32) {
    return absl::InvalidArgumentError("secp256k1 private key must be 32 bytes, got " + std::to_string(key.size()));
  }
  // Whether a key is valid may be public; its bytes may not.
  int valid = secp256k1_ec_seckey_verify(Context(), KeyBytes(key));
  SIGIL_DECLASSIFY(&valid, sizeof(valid));
  if (!valid) {
    return absl::InvalidArgumentError("secp256k1 private key is not a valid scalar (zero or not below the group order)");
  }
  return absl::OkStatus();
}

// Wipes a libsecp256k1 keypair (it holds the secret scalar) when it leaves scope.
class ScopedKeypair {
 public:
  ScopedKeypair() = default;
  ~ScopedKeypair() { SecureWipe(std::span<uint8_t>(keypair_.data, sizeof(keypair_.data))); }
  ScopedKeypair(const ScopedKeypair&) = delete;
  ScopedKeypair& operator=(const ScopedKeypair&) = delete;
  secp256k1_keypair* get() { return &keypair_; }

 private:
  secp256k1_keypair keypair_{};
};

absl::Status MakeKeypair(const SecretBytes& key, ScopedKeypair& keypair) {
  RETURN_IF_ERROR(CheckPrivateKey(key));
  int created = secp256k1_keypair_create(Context(), keypair.get(), KeyBytes(key));
  SIGIL_DECLASSIFY(&created, sizeof(created));
  if (!created) {
    return absl::InvalidArgumentError("secp256k1 private key is not a valid scalar");
  }
  return absl::OkStatus();
}

Secp256k1PublicKey SerializeUncompressed(const secp256k1_pubkey& pubkey) {
  Secp256k1PublicKey out;
  size_t len = out.size();
  secp256k1_ec_pubkey_serialize(Context(), out.data(), &len, &pubkey, SECP256K1_EC_UNCOMPRESSED);
  return out;
}

// Only the canonical uncompressed form: libsecp256k1 would also take the
// X9.62 "hybrid" prefixes 0x06/0x07, which no Sigil caller should produce.
bool ParseUncompressed(const Secp256k1PublicKey& key, secp256k1_pubkey* out) {
  return key[0] == 0x04 && secp256k1_ec_pubkey_parse(Context(), out, key.data(), key.size());
}

absl::StatusOr<RecoverableSignature> SignRecoverableUnchecked(const SecretBytes& private_key, const Hash256& digest) {
  secp256k1_ecdsa_recoverable_signature rsig;
  // nullptr nonce function = RFC 6979 (HMAC-SHA256 DRBG), the library default.
  int signed_ok =
      secp256k1_ecdsa_sign_recoverable(Context(), &rsig, digest.data(), KeyBytes(private_key), nullptr, nullptr);
  // The finished signature is public output.
  SIGIL_DECLASSIFY(&signed_ok, sizeof(signed_ok));
  SIGIL_DECLASSIFY(&rsig, sizeof(rsig));
  if (!signed_ok) return absl::InternalError("secp256k1 ECDSA signing failed");
  // libsecp256k1 always emits low-s; normalise anyway so the invariant in the
  // header does not depend on a library detail. Negating s mirrors R, which
  // flips the parity of R's y coordinate, i.e. the recovery id.
  secp256k1_ecdsa_signature plain;
  secp256k1_ecdsa_recoverable_signature_convert(Context(), &plain, &rsig);
  RecoverableSignature out;
  int recid = 0;
  std::array<uint8_t, 64> compact;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(Context(), compact.data(), &recid, &rsig);
  if (secp256k1_ecdsa_signature_normalize(Context(), &plain, &plain)) {
    secp256k1_ecdsa_signature_serialize_compact(Context(), compact.data(), &plain);
    recid ^= 1;
  }
  std::copy_n(compact.begin(), 32, out.r.begin());
  std::copy_n(compact.begin() + 32, 32, out.s.begin());
  out.recovery_id = static_cast<uint8_t>(recid);
  return out;
}

bool VerifyPlain(const secp256k1_pubkey& pubkey, const Hash256& digest, std::span<const uint8_t, 64> rs,
                 HighS high_s) {
  secp256k1_ecdsa_signature sig;
  // parse_compact rejects r or s >= n; verify rejects r == 0 or s == 0.
  if (!secp256k1_ecdsa_signature_parse_compact(Context(), &sig, rs.data())) return false;
  // secp256k1_ecdsa_verify itself refuses high-s; to accept it we verify the
  // normalised twin, which is valid exactly when the original is.
  if (high_s == HighS::kAccept) secp256k1_ecdsa_signature_normalize(Context(), &sig, &sig);
  return secp256k1_ecdsa_verify(Context(), &sig, digest.data(), &pubkey) == 1;
}

// A fixed digest for the pairwise consistency test of fresh keys.
constexpr Hash256 kPairwiseDigest = {'s', 'i', 'g', 'i', 'l', ' ', 'p', 'a', 'i', 'r', 'w', 'i', 's', 'e', ' ', 't',
                                     'e', 's', 't', ' ', 's', 'e', 'c', 'p', '2', '5', '6', 'k', '1', 0,   0,   1};

}  // namespace

std::array<uint8_t, 65> RecoverableSignature::ToCompact65() const {
  std::array<uint8_t, 65> out;
  std::copy(r.begin(), r.end(), out.begin());
  std::copy(s.begin(), s.end(), out.begin() + 32);
  out[64] = recovery_id;
  return out;
}

absl::StatusOr<SecretBytes> GenerateSecp256k1PrivateKey() {
  // A uniformly random 32-byte string is >= n with probability ~2^-128, so
  // the loop bound is never reached unless the CSPRNG is broken.
  for (int attempt = 0; attempt < 16; ++attempt) {
    SecretBytes key = RandomSecret(32);
    if (!CheckPrivateKey(key).ok()) continue;
    ASSIGN_OR_RETURN(Secp256k1PublicKey pub, DeriveSecp256k1PublicKey(key));
    ASSIGN_OR_RETURN(RecoverableSignature sig, SignRecoverableUnchecked(key, kPairwiseDigest));
    std::array<uint8_t, 64> rs;
    std::copy(sig.r.begin(), sig.r.end(), rs.begin());
    std::copy(sig.s.begin(), sig.s.end(), rs.begin() + 32);
    if (!VerifyEcdsa(pub, kPairwiseDigest, rs)) {
      return absl::InternalError("secp256k1 key generation failed its pairwise consistency test");
    }
    auto recovered = RecoverPublicKey(kPairwiseDigest, sig);
    if (!recovered.ok() || *recovered != pub) {
      return absl::InternalError("secp256k1 key generation failed its pairwise recovery test");
    }
    return key;
  }
  return absl::InternalError("CSPRNG produced no valid secp256k1 scalar in 16 attempts");
}

absl::StatusOr<Secp256k1PublicKey> DeriveSecp256k1PublicKey(const SecretBytes& private_key) {
  RETURN_IF_ERROR(CheckPrivateKey(private_key));
  secp256k1_pubkey pubkey;
  int created = secp256k1_ec_pubkey_create(Context(), &pubkey, KeyBytes(private_key));
  SIGIL_DECLASSIFY(&created, sizeof(created));
  SIGIL_DECLASSIFY(&pubkey, sizeof(pubkey));
  if (!created) {
    return absl::InvalidArgumentError("secp256k1 private key is not a valid scalar");
  }
  return SerializeUncompressed(pubkey);
}

absl::StatusOr<XOnlyPublicKey> DeriveXOnlyPublicKey(const SecretBytes& private_key) {
  ScopedKeypair keypair;
  RETURN_IF_ERROR(MakeKeypair(private_key, keypair));
  secp256k1_xonly_pubkey xonly;
  if (!secp256k1_keypair_xonly_pub(Context(), &xonly, nullptr, keypair.get())) {
    return absl::InternalError("secp256k1 x-only key derivation failed");
  }
  XOnlyPublicKey out;
  secp256k1_xonly_pubkey_serialize(Context(), out.data(), &xonly);
  return out;
}

absl::StatusOr<Secp256k1PublicKey> ParseSecp256k1PublicKey(std::span<const uint8_t> encoded) {
  const bool compressed = encoded.size() == 33 && (encoded[0] == 0x02 || encoded[0] == 0x03);
  const bool uncompressed = encoded.size() == 65 && encoded[0] == 0x04;
  if (!compressed && !uncompressed) {
    return absl::InvalidArgumentError(
        "secp256k1 public key must be 33 bytes starting 02/03 or 65 bytes starting 04, got " +
        std::to_string(encoded.size()) + " bytes");
  }
  secp256k1_pubkey pubkey;
  if (!secp256k1_ec_pubkey_parse(Context(), &pubkey, encoded.data(), encoded.size())) {
    return absl::InvalidArgumentError("secp256k1 public key is not a point on the curve");
  }
  return SerializeUncompressed(pubkey);
}

absl::StatusOr<RecoverableSignature> SignRecoverable(const SecretBytes& private_key, const Hash256& digest) {
  RETURN_IF_ERROR(CheckPrivateKey(private_key));
  return SignRecoverableUnchecked(private_key, digest);
}

bool VerifyEcdsa(const Secp256k1PublicKey& public_key, const Hash256& digest, std::span<const uint8_t, 64> rs) {
  return VerifyEcdsaWithHighS(public_key, digest, rs, HighS::kReject);
}

bool VerifyEcdsaWithHighS(const Secp256k1PublicKey& public_key, const Hash256& digest,
                          std::span<const uint8_t, 64> rs, HighS high_s) {
  secp256k1_pubkey pubkey;
  if (!ParseUncompressed(public_key, &pubkey)) return false;
  return VerifyPlain(pubkey, digest, rs, high_s);
}

absl::StatusOr<Secp256k1PublicKey> RecoverPublicKey(const Hash256& digest, const RecoverableSignature& sig) {
  if (sig.recovery_id > 1) {
    return absl::InvalidArgumentError("recovery id must be 0 or 1, got " + std::to_string(sig.recovery_id));
  }
  std::array<uint8_t, 64> rs;
  std::copy(sig.r.begin(), sig.r.end(), rs.begin());
  std::copy(sig.s.begin(), sig.s.end(), rs.begin() + 32);
  secp256k1_ecdsa_signature plain;
  if (!secp256k1_ecdsa_signature_parse_compact(Context(), &plain, rs.data())) {
    return absl::InvalidArgumentError("signature r or s is not below the group order");
  }
  if (secp256k1_ecdsa_signature_normalize(Context(), nullptr, &plain)) {
    return absl::InvalidArgumentError("signature has a high s value (s > n/2); only low-s signatures are accepted");
  }
  secp256k1_ecdsa_recoverable_signature rsig;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(Context(), &rsig, rs.data(), sig.recovery_id)) {
    return absl::InvalidArgumentError("malformed recoverable signature");
  }
  secp256k1_pubkey pubkey;
  if (!secp256k1_ecdsa_recover(Context(), &pubkey, &rsig, digest.data())) {
    return absl::InvalidArgumentError("no public key can be recovered from this signature and digest");
  }
  return SerializeUncompressed(pubkey);
}

absl::StatusOr<std::array<uint8_t, 64>> NormalizeLowS(std::span<const uint8_t, 64> rs) {
  secp256k1_ecdsa_signature plain;
  if (!secp256k1_ecdsa_signature_parse_compact(Context(), &plain, rs.data())) {
    return absl::InvalidArgumentError("signature r or s is not below the group order");
  }
  secp256k1_ecdsa_signature_normalize(Context(), &plain, &plain);
  std::array<uint8_t, 64> normalized;
  secp256k1_ecdsa_signature_serialize_compact(Context(), normalized.data(), &plain);
  return normalized;
}

RecoverableSignature WithRecoveryId(std::span<const uint8_t, 64> rs, uint8_t recovery_id) {
  RecoverableSignature out;
  std::copy_n(rs.begin(), 32, out.r.begin());
  std::copy_n(rs.begin() + 32, 32, out.s.begin());
  out.recovery_id = recovery_id;
  return out;
}

absl::StatusOr<RecoverableSignature> NormalizeAndFindRecoveryId(const Hash256& digest,
                                                                std::span<const uint8_t, 64> rs,
                                                                const Secp256k1PublicKey& expected) {
  using Compact = std::array<uint8_t, 64>;
  ASSIGN_OR_RETURN(const Compact normalized, NormalizeLowS(rs));
  for (int recid = 0; recid <= 1; ++recid) {
    secp256k1_ecdsa_recoverable_signature rsig;
    secp256k1_pubkey pubkey;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(Context(), &rsig, normalized.data(), recid)) continue;
    if (!secp256k1_ecdsa_recover(Context(), &pubkey, &rsig, digest.data())) continue;
    if (SerializeUncompressed(pubkey) != expected) continue;
    return WithRecoveryId(normalized, static_cast<uint8_t>(recid));
  }
  return absl::InvalidArgumentError(
      "signature does not verify against the expected public key with either recovery id");
}

absl::StatusOr<SchnorrSignature> SchnorrSign(const SecretBytes& private_key, const Hash256& message) {
  std::array<uint8_t, 32> aux;
  RandomBytes(aux);
  auto sig = SchnorrSignMessageWithAux(private_key, message, aux);
  SecureWipe(aux);
  return sig;
}

absl::StatusOr<SchnorrSignature> SchnorrSignWithAux(const SecretBytes& private_key, const Hash256& message,
                                                    const std::array<uint8_t, 32>& aux_rand) {
  return SchnorrSignMessageWithAux(private_key, message, aux_rand);
}

absl::StatusOr<SchnorrSignature> SchnorrSignMessageWithAux(const SecretBytes& private_key,
                                                           std::span<const uint8_t> message,
                                                           const std::array<uint8_t, 32>& aux_rand) {
  ScopedKeypair keypair;
  RETURN_IF_ERROR(MakeKeypair(private_key, keypair));
  SchnorrSignature sig;
  int ok = 0;
  if (message.size() == 32) {
    ok = secp256k1_schnorrsig_sign32(Context(), sig.data(), message.data(), keypair.get(), aux_rand.data());
  } else {
    // The default nonce function (BIP-340) reads aux_rand through ndata.
    secp256k1_schnorrsig_extraparams extra = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
    extra.ndata = const_cast<uint8_t*>(aux_rand.data());
    ok = secp256k1_schnorrsig_sign_custom(Context(), sig.data(), message.data(), message.size(), keypair.get(),
                                          &extra);
  }
  SIGIL_DECLASSIFY(&ok, sizeof(ok));
  SIGIL_DECLASSIFY(sig.data(), sig.size());
  if (!ok) return absl::InternalError("BIP-340 signing failed");
  return sig;
}

bool SchnorrVerify(const XOnlyPublicKey& public_key, std::span<const uint8_t> message, const SchnorrSignature& sig) {
  secp256k1_xonly_pubkey pubkey;
  if (!secp256k1_xonly_pubkey_parse(Context(), &pubkey, public_key.data())) return false;
  // libsecp256k1 rejects a null message pointer even for length 0.
  static const uint8_t kEmpty = 0;
  const uint8_t* msg = message.empty() ? &kEmpty : message.data();
  return secp256k1_schnorrsig_verify(Context(), sig.data(), msg, message.size(), &pubkey) == 1;
}

absl::StatusOr<std::array<uint8_t, 64>> ParseEcdsaDerSignature(std::span<const uint8_t> der) {
  // Short-form lengths only: the longest valid signature is 72 bytes, so a
  // long-form length is never minimal and therefore never DER.
  if (der.size() < 2 || der[0] != 0x30) {
    return absl::InvalidArgumentError("DER signature must start with a SEQUENCE tag (0x30)");
  }
  if (der[1] >= 0x80) return absl::InvalidArgumentError("DER signature uses a non-minimal or indefinite length");
  if (static_cast<size_t>(der[1]) != der.size() - 2) {
    return absl::InvalidArgumentError("DER signature length does not match its content (truncated or trailing bytes)");
  }
  std::array<uint8_t, 64> rs{};
  size_t pos = 2;
  for (int i = 0; i < 2; ++i) {
    const char* name = i == 0 ? "r" : "s";
    if (pos + 2 > der.size() || der[pos] != 0x02) {
      return absl::InvalidArgumentError(std::string("DER signature: expected INTEGER tag for ") + name);
    }
    const size_t len = der[pos + 1];
    pos += 2;
    if (len >= 0x80) return absl::InvalidArgumentError(std::string("DER signature: non-minimal length for ") + name);
    if (len == 0 || pos + len > der.size()) {
      return absl::InvalidArgumentError(std::string("DER signature: empty or truncated integer ") + name);
    }
    std::span<const uint8_t> value = der.subspan(pos, len);
    pos += len;
    if (value[0] & 0x80) return absl::InvalidArgumentError(std::string("DER signature: negative integer ") + name);
    if (value.size() > 1 && value[0] == 0x00 && !(value[1] & 0x80)) {
      return absl::InvalidArgumentError(std::string("DER signature: integer ") + name + " has superfluous leading zeros");
    }
    if (value[0] == 0x00 && value.size() > 1) value = value.subspan(1);
    if (value.size() > 32) {
      return absl::InvalidArgumentError(std::string("DER signature: integer ") + name + " is wider than 256 bits");
    }
    std::copy(value.begin(), value.end(), rs.begin() + 32 * i + (32 - value.size()));
  }
  if (pos != der.size()) return absl::InvalidArgumentError("DER signature has bytes after the two integers");
  return rs;
}

bool VerifyEcdsaDer(const Secp256k1PublicKey& public_key, const Hash256& digest, std::span<const uint8_t> der,
                    HighS high_s) {
  auto rs = ParseEcdsaDerSignature(der);
  if (!rs.ok()) return false;
  return VerifyEcdsaWithHighS(public_key, digest, *rs, high_s);
}

}  // namespace sigil::crypto
