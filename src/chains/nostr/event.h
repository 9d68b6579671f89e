// Nostr events (NIP-01): the unsigned template an agent asks Sigil to sign,
// the signed event, the canonical serialization that defines the event id,
// BIP-340 signing and verification.
//
// Value types, built only by Parse / FromJson / Create (a live object is
// always within its bounds); immutable, copyable, safe to share.
//
// The id is sha256 of the UTF-8 serialization
//   [0,"<pubkey hex>",<created_at>,<kind>,<tags>,"<content>"]
// with no whitespace, where every string escapes exactly
//   0x0A \n   0x22 \"   0x5C \\   0x0D \r   0x09 \t   0x08 \b   0x0C \f
// and includes every other character verbatim (non-ASCII as raw UTF-8).
//
// Control characters other than those seven (U+0000..U+001F) are where
// implementations disagree: NIP-01 says "verbatim", while JSON.stringify
// (nostr-tools), go-nostr and serde write \u00XX. An event containing one
// would get a different id depending on who computes it, so:
//   * SignEvent refuses to sign one (InvalidArgument naming the field);
//   * SignedEvent::Verify accepts the id computed either way (both
//     serializations are injective and agree whenever no such character is
//     present, so this admits no second set of fields for an id).
//
// Security: Verify recomputes the id from the fields and never trusts the id
// field; a signature over a mismatching id fails. Parsing refuses duplicate
// JSON keys and unknown keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/secret.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"

namespace sigil::nostr {

// Bounds on untrusted events, checked before the work they limit. Contact
// lists (kind 3) carry thousands of "p" tags, hence the generous tag count.
struct EventLimits {
  size_t max_json_bytes = 1 << 20;
  size_t max_content_bytes = 256 * 1024;
  size_t max_tags = 10000;
  size_t max_tag_elements = 64;
  size_t max_tag_element_bytes = 16 * 1024;
};

// Largest created_at accepted: 2^53 - 1, the largest integer every JSON
// implementation (JavaScript numbers) represents exactly.
inline constexpr uint64_t kMaxCreatedAt = (uint64_t{1} << 53) - 1;
inline constexpr uint32_t kMaxKind = 65535;

using Tag = std::vector<std::string>;

// {created_at, kind, tags, content}: what an agent asks Sigil to sign.
class UnsignedEvent {
 public:
  // JSON object with exactly created_at (integer 0..2^53-1), kind (integer
  // 0..65535), tags (array of arrays of strings), content (string), and
  // optionally pubkey (64 lower-case hex digits; if present, SignEvent
  // refuses a key whose public key differs). InvalidArgument names the field.
  static absl::StatusOr<UnsignedEvent> Parse(std::string_view json_text, const EventLimits& limits = {});
  static absl::StatusOr<UnsignedEvent> FromJson(const nlohmann::json& value, const EventLimits& limits = {});
  // From parts; strings must be valid UTF-8 and within the limits.
  static absl::StatusOr<UnsignedEvent> Create(uint64_t created_at, uint32_t kind, std::vector<Tag> tags,
                                              std::string content, const EventLimits& limits = {});

  uint64_t created_at() const { return created_at_; }
  uint32_t kind() const { return kind_; }
  const std::vector<Tag>& tags() const { return tags_; }
  const std::string& content() const { return content_; }
  // The pubkey the template named, if any.
  const std::optional<crypto::XOnlyPublicKey>& expected_pubkey() const { return expected_pubkey_; }
  // The second element of every tag whose first element is `name` (e.g. the
  // "p" tags' public keys), in order.
  std::vector<std::string> TagValues(std::string_view name) const;

 private:
  UnsignedEvent() = default;
  friend class SignedEvent;
  uint64_t created_at_ = 0;
  uint32_t kind_ = 0;
  std::vector<Tag> tags_;
  std::string content_;
  std::optional<crypto::XOnlyPublicKey> expected_pubkey_;
};

// The NIP-01 serialization whose sha256 is the id (see the file comment).
std::string SerializeForId(const crypto::XOnlyPublicKey& pubkey, const UnsignedEvent& event);
crypto::Hash256 ComputeEventId(const crypto::XOnlyPublicKey& pubkey, const UnsignedEvent& event);

// {id, pubkey, created_at, kind, tags, content, sig}.
class SignedEvent {
 public:
  // Parses the structure only (hex fields are 64/64/128 lower-case digits);
  // it does not check the id or the signature: call Verify.
  static absl::StatusOr<SignedEvent> Parse(std::string_view json_text, const EventLimits& limits = {});
  static absl::StatusOr<SignedEvent> FromJson(const nlohmann::json& value, const EventLimits& limits = {});

  // OK if the id recomputed from the fields equals the id field and the
  // BIP-340 signature over it verifies under pubkey. Otherwise
  // InvalidArgument saying which ("id does not match..." / "signature...").
  absl::Status Verify() const;

  const UnsignedEvent& event() const { return event_; }
  const crypto::XOnlyPublicKey& pubkey() const { return pubkey_; }
  // The id field as given (after Verify succeeds, also the recomputed id).
  const crypto::Hash256& id() const { return id_; }
  const crypto::SchnorrSignature& sig() const { return sig_; }
  std::string IdHex() const;
  std::string PubkeyHex() const;
  std::string SigHex() const;

  // Compact JSON {"id","pubkey","created_at","kind","tags","content","sig"}
  // (strings escaped per NIP-01; other control characters as \u00XX so the
  // text is valid JSON).
  std::string ToJsonText() const;
  nlohmann::json ToJson() const;

 private:
  SignedEvent() = default;
  friend absl::StatusOr<SignedEvent> SignEvent(const SecretBytes&, const UnsignedEvent&);
  UnsignedEvent event_;
  crypto::XOnlyPublicKey pubkey_{};
  crypto::Hash256 id_{};
  crypto::SchnorrSignature sig_{};
};

// Signs with BIP-340 (fresh auxiliary randomness) over the NIP-01 id.
// InvalidArgument if the key is invalid, if the template names a different
// pubkey, or if a string holds a control character NIP-01 implementations
// serialize inconsistently (see above). The result verifies before it is
// returned.
absl::StatusOr<SignedEvent> SignEvent(const SecretBytes& private_key, const UnsignedEvent& event);

}  // namespace sigil::nostr
