#include "chains/ethereum/message.h"

#include <algorithm>
#include <string>

#include "base/status.h"
#include "crypto/secp256k1.h"

namespace sigil::eth {
namespace {

absl::Status CheckSize(std::span<const uint8_t> message) {
  if (message.size() > kMaxPersonalMessageSize) {
    return absl::InvalidArgumentError("message of " + std::to_string(message.size()) +
                                      " bytes exceeds the limit of " + std::to_string(kMaxPersonalMessageSize));
  }
  return absl::OkStatus();
}

}  // namespace

crypto::Hash256 PersonalMessageHash(std::span<const uint8_t> message) {
  std::string prefix = "\x19" "Ethereum Signed Message:\n" + std::to_string(message.size());
  crypto::Keccak256Hasher hasher;
  hasher.Update(AsBytes(prefix));
  hasher.Update(message);
  return hasher.Final();
}

Bytes DecodeMessageParam(std::string_view param) {
  if (param.size() >= 2 && param[0] == '0' && (param[1] == 'x' || param[1] == 'X')) {
    auto decoded = HexDecode(param);
    if (decoded.ok()) return *std::move(decoded);
  }
  auto b = AsBytes(param);
  return Bytes(b.begin(), b.end());
}

absl::StatusOr<MessageSignature> SignPersonalMessage(const SecretBytes& private_key,
                                                     std::span<const uint8_t> message) {
  RETURN_IF_ERROR(CheckSize(message));
  ASSIGN_OR_RETURN(crypto::RecoverableSignature sig,
                   crypto::SignRecoverable(private_key, PersonalMessageHash(message)));
  MessageSignature out;
  std::copy(sig.r.begin(), sig.r.end(), out.begin());
  std::copy(sig.s.begin(), sig.s.end(), out.begin() + 32);
  out[64] = static_cast<uint8_t>(27 + sig.recovery_id);
  return out;
}

absl::StatusOr<Address> RecoverPersonalSigner(std::span<const uint8_t> message,
                                              std::span<const uint8_t> signature) {
  RETURN_IF_ERROR(CheckSize(message));
  if (signature.size() != 65) {
    return absl::InvalidArgumentError("signature must be 65 bytes (r || s || v), got " +
                                      std::to_string(signature.size()));
  }
  uint8_t v = signature[64];
  if (v >= 27) v = static_cast<uint8_t>(v - 27);
  if (v > 1) return absl::InvalidArgumentError("signature v must be 27 or 28 (or 0/1)");
  crypto::RecoverableSignature sig;
  std::copy(signature.begin(), signature.begin() + 32, sig.r.begin());
  std::copy(signature.begin() + 32, signature.begin() + 64, sig.s.begin());
  sig.recovery_id = v;
  auto pub = crypto::RecoverPublicKey(PersonalMessageHash(message), sig);
  if (!pub.ok()) {
    return absl::InvalidArgumentError("signature does not recover to a public key: " +
                                      std::string(pub.status().message()));
  }
  return Address::FromPublicKey(*pub);
}

}  // namespace sigil::eth
