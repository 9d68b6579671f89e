#include "crypto/known_answers.h"

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "base/hex.h"
#include "crypto/aead.h"
#include "crypto/ed25519.h"
#include "crypto/frost.h"
#include "crypto/frost_group.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/secp256k1.h"

// Every expected value below comes from a published standard or an
// independent implementation, never from the code under test:
//   Keccak-256("")            Ethereum yellow paper / every Ethereum client (KEC of empty RLP input)
//   SHA-256/512("abc")        FIPS 180-2 Appendix B/C
//   HMAC-SHA256               RFC 4231 test case 2
//   HKDF-SHA256               RFC 5869 test case 1
//   Ed25519                   RFC 8032 section 7.1 TEST 2
//   BIP-340                   bip-0340/test-vectors.csv index 1
//   ECDSA (RFC 6979)          EIP-155 "Example" (key 0x46..46, r/s/v and sender address); r, s and
//                             the recovery id were also re-derived with a stand-alone Python RFC 6979
//                             + affine-arithmetic ECDSA (hmac/hashlib only) before being recorded here.
//   XChaCha20-Poly1305        draft-irtf-cfrg-xchacha-03 appendix A.3.1
//   Argon2id                  reference `argon2` CLI: echo -n 123 | argon2 ABCDEFGHIJKLMNOP -id -v 13 -k 1024 -t 5
//                             (p = 1, 32-byte output), as published in iov-one/iov-core's libsodium tests.
//   FROST                     RFC 9591 Appendix E.1 (Ed25519, SHA-512) and E.5 (secp256k1, SHA-256)

namespace sigil::crypto {
namespace {

std::vector<uint8_t> Hex(std::string_view hex) {
  // The constants are literals in this file; a decoding failure is a bug
  // here and yields an empty vector, which then fails the comparison.
  auto bytes = HexDecode(hex);
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

template <size_t N>
std::array<uint8_t, N> HexArray(std::string_view hex) {
  std::array<uint8_t, N> out{};
  std::vector<uint8_t> bytes = Hex(hex);
  if (bytes.size() == N) std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

template <typename A, typename B>
bool Same(const A& a, const B& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

absl::Status Fail(std::string_view primitive) {
  return absl::InternalError("crypto self-test failed: " + std::string(primitive) +
                             " produced a wrong answer; refusing to run with a broken primitive");
}

bool CheckHashes() {
  return Same(Keccak256({}), Hex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"));
}

bool CheckSha256() {
  return Same(Sha256(AsBytes("abc")), Hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

bool CheckSha512() {
  return Same(Sha512(AsBytes("abc")), Hex("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                                          "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"));
}

bool CheckHmac() {
  return Same(HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?")),
              Hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
}

bool CheckHkdf() {
  SecretBytes ikm = SecretBytes::CopyFrom(Hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"));
  std::vector<uint8_t> info = Hex("f0f1f2f3f4f5f6f7f8f9");
  auto okm = HkdfSha256(ikm, Hex("000102030405060708090a0b0c"),
                        std::string_view(reinterpret_cast<const char*>(info.data()), info.size()), 42);
  return okm.ok() && Same(okm->Reveal(SecretAccess::Get()),
                          Hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"));
}

bool CheckEd25519() {
  SecretBytes seed = SecretBytes::CopyFrom(Hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"));
  const auto expected_pub = HexArray<32>("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
  const auto expected_sig = HexArray<64>(
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
      "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
  const std::vector<uint8_t> message = Hex("72");
  auto pub = DeriveEd25519PublicKey(seed);
  auto sig = Ed25519Sign(seed, message);
  if (!pub.ok() || !sig.ok() || *pub != expected_pub || *sig != expected_sig) return false;
  if (!Ed25519Verify(expected_pub, message, expected_sig)) return false;
  Ed25519Signature tampered = expected_sig;
  tampered[10] ^= 0x01;
  return !Ed25519Verify(expected_pub, message, tampered);
}

bool CheckSchnorr() {
  SecretBytes key = SecretBytes::CopyFrom(Hex("b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef"));
  const auto expected_pub = HexArray<32>("dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659");
  const auto aux = HexArray<32>("0000000000000000000000000000000000000000000000000000000000000001");
  const auto message = HexArray<32>("243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89");
  const auto expected_sig = HexArray<64>(
      "6896bd60eeae296db48a229ff71dfe071bde413e6d43f917dc8dcf8c78de3341"
      "8906d11ac976abccb20b091292bff4ea897efcb639ea871cfa95f6de339e4b0a");
  auto pub = DeriveXOnlyPublicKey(key);
  auto sig = SchnorrSignWithAux(key, message, aux);
  if (!pub.ok() || !sig.ok() || *pub != expected_pub || *sig != expected_sig) return false;
  if (!SchnorrVerify(expected_pub, message, expected_sig)) return false;
  SchnorrSignature tampered = expected_sig;
  tampered[40] ^= 0x01;
  return !SchnorrVerify(expected_pub, message, tampered);
}

bool CheckEcdsa() {
  SecretBytes key = SecretBytes::CopyFrom(Hex("4646464646464646464646464646464646464646464646464646464646464646"));
  const auto digest = HexArray<32>("daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
  const auto expected_r = HexArray<32>("28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276");
  const auto expected_s = HexArray<32>("67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
  const std::vector<uint8_t> expected_address = Hex("9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f");
  auto sig = SignRecoverable(key, digest);
  // v = 37 = chain_id * 2 + 35 + recovery_id with chain_id 1, so recovery_id 0.
  if (!sig.ok() || sig->r != expected_r || sig->s != expected_s || sig->recovery_id != 0) return false;
  auto derived = DeriveSecp256k1PublicKey(key);
  auto recovered = RecoverPublicKey(digest, *sig);
  if (!derived.ok() || !recovered.ok() || *derived != *recovered) return false;
  // Ethereum address = last 20 bytes of Keccak-256(X || Y).
  const Hash256 key_hash = Keccak256(std::span<const uint8_t>(recovered->data() + 1, 64));
  if (!Same(std::span<const uint8_t>(key_hash.data() + 12, 20), expected_address)) return false;
  std::array<uint8_t, 64> rs;
  std::copy(expected_r.begin(), expected_r.end(), rs.begin());
  std::copy(expected_s.begin(), expected_s.end(), rs.begin() + 32);
  if (!VerifyEcdsa(*derived, digest, rs)) return false;
  rs[63] ^= 0x01;
  return !VerifyEcdsa(*derived, digest, rs);
}

bool CheckAead() {
  SecretBytes key = SecretBytes::CopyFrom(Hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"));
  const std::vector<uint8_t> ad = Hex("50515253c0c1c2c3c4c5c6c7");
  const std::string_view plaintext =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would "
      "be it.";
  const std::vector<uint8_t> sealed = Hex(
      "404142434445464748494a4b4c4d4e4f5051525354555657"  // nonce
      "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
      "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
      "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
      "21f9664c97637da9768812f615c68b13b52e"
      "c0875924c1c7987947deafd8780acf49");  // tag
  auto opened = AeadOpen(key, sealed, ad);
  if (!opened.ok() || opened->RevealText(SecretAccess::Get()) != plaintext) return false;
  std::vector<uint8_t> tampered = sealed;
  tampered[30] ^= 0x01;
  if (AeadOpen(key, tampered, ad).status().code() != absl::StatusCode::kDataLoss) return false;
  // The seal side, whose nonce is random: a round trip.
  auto resealed = AeadSeal(key, AsBytes(plaintext), ad);
  if (!resealed.ok()) return false;
  auto reopened = AeadOpen(key, *resealed, ad);
  return reopened.ok() && reopened->RevealText(SecretAccess::Get()) == plaintext;
}

bool CheckArgon2id() {
  SecretBytes passphrase = SecretBytes::CopyFrom(std::string_view("123"));
  const Argon2Params params{5, 1024 * 1024};
  auto out = Argon2id(passphrase, AsBytes("ABCDEFGHIJKLMNOP"), params, 32);
  return out.ok() && Same(out->Reveal(SecretAccess::Get()),
                          Hex("3c5d010180ba0cf5b6b858cba23b318e42d33088983c404598599c3b029ecac6"));
}

bool CheckFrostEd25519() { return internal::CheckFrost(internal::kFrostEd25519KnownAnswer); }
bool CheckFrostSecp256k1() { return internal::CheckFrost(internal::kFrostSecp256k1KnownAnswer); }

}  // namespace

namespace internal {

const FrostKnownAnswer kFrostEd25519KnownAnswer = {
    frost::Suite::kEd25519Sha512,
    "15d21ccd7ee42959562fc8aa63224c8851fb3ec85a3faf66040d380fb9738673",
    "929dcc590407aae7d388761cddb0c0db6f5627aea8e217f4a033f2ec83d93509",
    "0fd2e39e111cdc266f6c0f4d0fd45c947761f1f5d3cb583dfcb9bbaf8d4c9fec",
    "69cd85f631d5f7f2721ed5e40519b1366f340a87c2f6856363dbdcda348a7501",
    "cfbdb165bd8aad6eb79deb8d287bcc0ab6658ae57fdcc98ed12c0669e90aec91",
    "7487bc41a6e712eea2f2af24681b58b1cf1da278ea11fe4e8b78398965f13552",
    "bd86125de990acc5e1f13781d8e32c03a9bbd4c53539bbc106058bfd14326007",
    "74657374",
    "36282629c383bb820a88b71cae937d41f2f2adfcc3d02e55507e2fb9e2dd3cbe"
    "bd9d2b0844e49ae0f3fa935161e1419aab7b47d21a37ebeae1f17d4987b3160b",
};

const FrostKnownAnswer kFrostSecp256k1KnownAnswer = {
    frost::Suite::kSecp256k1Sha256,
    "02f37c34b66ced1fb51c34a90bdae006901f10625cc06c4f64663b0eae87d87b4f",
    "08f89ffe80ac94dcb920c26f3f46140bfc7f95b493f8310f5fc1ea2b01f4254c",
    "7ea5ed09af19f6ff21040c07ec2d2adbd35b759da5a401d4c99dd26b82391cb2",
    "47acab018f116020c10cb9b9abdc7ac10aae1b48ca6e36dc15acb6ec9be5cdc5",
    "03077507ba327fc074d2793955ef3410ee3f03b82b4cdc2370f71d865beb926ef6",
    "02ad53031ddfbbacfc5fbda3d3b0c2445c8e3e99cbc4ca2db2aa283fa68525b135",
    "0160fd0d388932f4826d2ebcd6b9eaba734f7c71cf25b4279a4ca2581e47b18d",
    "74657374",
    "0205b6d04d3774c8929413e3c76024d54149c372d57aae62574ed74319b5ea14d0"
    "c65dde8492a7471437e6c2fe3da49b90d23f642b5c6dbe7e36089f096dd97324",
};

bool CheckFrost(const FrostKnownAnswer& answer) {
  using namespace frost;
  auto one = Identifier::FromInteger(answer.suite, 1);
  auto three = Identifier::FromInteger(answer.suite, 3);
  if (!one.ok() || !three.ok()) return false;
  const std::vector<uint8_t> group_key = Hex(answer.group_public_key);
  // Round one with the vector's randomness, so participant 1's nonces (and
  // so its commitment) are the vector's.
  const KeyPackage signer{answer.suite, *one, SecretBytes::CopyFrom(Hex(answer.signing_share_1)), {}, group_key, 2};
  const auto hiding = HexArray<32>(answer.hiding_randomness_1);
  const auto binding = HexArray<32>(answer.binding_randomness_1);
  auto nonces = frost::internal::CommitWithRandomness(signer, hiding, binding);
  if (!nonces.ok()) return false;
  const SigningCommitment commitments[] = {
      nonces->commitment(),
      {*three, Hex(answer.hiding_commitment_3), Hex(answer.binding_commitment_3)},
  };
  const std::vector<uint8_t> message = Hex(answer.message);
  // Round two for participant 1, then the coordinator's sum with
  // participant 3's share: the vector's signature, or participant 1's share
  // (or its commitment) was wrong.
  auto share = Sign(signer, *std::move(nonces), message, commitments);
  if (!share.ok()) return false;
  const SignatureShare shares[] = {*share, {*three, Hex(answer.signature_share_3)}};
  const PublicKeyPackage package{answer.suite, group_key, {}, 2};
  auto signature = Aggregate(package, commitments, message, shares);
  const std::vector<uint8_t> expected = Hex(answer.signature);
  if (!signature.ok() || *signature != expected) return false;
  if (!VerifySignature(answer.suite, group_key, message, expected)) return false;
  std::vector<uint8_t> tampered = expected;
  tampered.back() ^= 0x01;
  return !VerifySignature(answer.suite, group_key, message, tampered);
}

}  // namespace internal

absl::Status RunSelfTest() {
  struct Check {
    const char* primitive;
    bool (*run)();
  };
  static constexpr Check kChecks[] = {
      {"Keccak-256", CheckHashes},
      {"SHA-256", CheckSha256},
      {"SHA-512", CheckSha512},
      {"HMAC-SHA256", CheckHmac},
      {"HKDF-SHA256", CheckHkdf},
      {"Ed25519", CheckEd25519},
      {"BIP-340 Schnorr", CheckSchnorr},
      {"secp256k1 ECDSA (RFC 6979 sign/recover)", CheckEcdsa},
      {"XChaCha20-Poly1305", CheckAead},
      {"Argon2id", CheckArgon2id},
      {"FROST(Ed25519, SHA-512)", CheckFrostEd25519},
      {"FROST(secp256k1, SHA-256)", CheckFrostSecp256k1},
  };
  for (const Check& check : kChecks) {
    if (!check.run()) return Fail(check.primitive);
  }
  return absl::OkStatus();
}

}  // namespace sigil::crypto
