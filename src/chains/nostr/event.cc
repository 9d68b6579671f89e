#include "chains/nostr/event.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "base/json_bounds.h"
#include "base/json_duplicates.h"
#include "base/status.h"

namespace sigil::nostr {
namespace {

using json = nlohmann::json;

constexpr char kHexDigits[] = "0123456789abcdef";
// Nesting of an event: object -> tags array -> tag array.
constexpr size_t kMaxDepth = 3;

absl::Status FieldError(const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError("nostr event " + field + ": " + what);
}

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, <= U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i < n + 1) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// A control character that NIP-01 implementations serialize differently.
int FindAmbiguousControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\b' && c != '\f') return c;
  }
  return -1;
}

void AppendString(std::string& out, std::string_view s, bool escape_other_controls) {
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20 && escape_other_controls) {
          out += "\\u00";
          out += kHexDigits[c >> 4];
          out += kHexDigits[c & 0x0F];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void AppendTags(std::string& out, const std::vector<Tag>& tags, bool escape_other_controls) {
  out += '[';
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i) out += ',';
    out += '[';
    for (size_t j = 0; j < tags[i].size(); ++j) {
      if (j) out += ',';
      AppendString(out, tags[i][j], escape_other_controls);
    }
    out += ']';
  }
  out += ']';
}

std::string Serialize(const crypto::XOnlyPublicKey& pubkey, const UnsignedEvent& e, bool escape_other_controls) {
  std::string out = "[0,\"";
  out += HexEncode(pubkey);
  out += "\",";
  out += std::to_string(e.created_at());
  out += ',';
  out += std::to_string(e.kind());
  out += ',';
  AppendTags(out, e.tags(), escape_other_controls);
  out += ',';
  AppendString(out, e.content(), escape_other_controls);
  out += ']';
  return out;
}

template <size_t N>
absl::StatusOr<std::array<uint8_t, N>> ParseLowerHex(const json& v, const std::string& field) {
  if (!v.is_string()) return FieldError(field, "expected a string of " + std::to_string(2 * N) + " hex digits");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() != 2 * N ||
      !std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
    return FieldError(field, "expected " + std::to_string(2 * N) + " lower-case hex digits");
  }
  auto bytes = HexDecode(s);
  if (!bytes.ok()) return FieldError(field, "not hex");
  std::array<uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

absl::StatusOr<uint64_t> ParseInteger(const json& v, const std::string& field, uint64_t max) {
  if (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)) {
    const uint64_t n = v.is_number_unsigned() ? v.get<uint64_t>() : static_cast<uint64_t>(v.get<int64_t>());
    if (n > max) return FieldError(field, "must be at most " + std::to_string(max));
    return n;
  }
  return FieldError(field, "expected a non-negative integer (a JSON number without fraction or exponent)");
}

absl::Status CheckString(std::string_view s, const std::string& field, size_t max_bytes) {
  if (s.size() > max_bytes) {
    return FieldError(field, std::to_string(s.size()) + " bytes; the limit is " + std::to_string(max_bytes));
  }
  if (!IsValidUtf8(s)) return FieldError(field, "not valid UTF-8");
  return absl::OkStatus();
}

absl::Status CheckTags(const std::vector<Tag>& tags, const EventLimits& limits) {
  if (tags.size() > limits.max_tags) {
    return FieldError("tags", "has " + std::to_string(tags.size()) + " tags; the limit is " +
                                  std::to_string(limits.max_tags));
  }
  for (size_t i = 0; i < tags.size(); ++i) {
    const std::string where = "tags[" + std::to_string(i) + "]";
    if (tags[i].size() > limits.max_tag_elements) {
      return FieldError(where, "has more than " + std::to_string(limits.max_tag_elements) + " elements");
    }
    for (size_t j = 0; j < tags[i].size(); ++j) {
      RETURN_IF_ERROR(CheckString(tags[i][j], where + "[" + std::to_string(j) + "]", limits.max_tag_element_bytes));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Tag>> ParseTags(const json& v, const EventLimits& limits) {
  if (!v.is_array()) return FieldError("tags", "expected an array of arrays of strings");
  if (v.size() > limits.max_tags) {
    return FieldError("tags", "has " + std::to_string(v.size()) + " tags; the limit is " + std::to_string(limits.max_tags));
  }
  std::vector<Tag> tags;
  tags.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const json& t = v[i];
    const std::string where = "tags[" + std::to_string(i) + "]";
    if (!t.is_array()) return FieldError(where, "expected an array of strings");
    if (t.size() > limits.max_tag_elements) {
      return FieldError(where, "has more than " + std::to_string(limits.max_tag_elements) + " elements");
    }
    Tag tag;
    tag.reserve(t.size());
    for (size_t j = 0; j < t.size(); ++j) {
      if (!t[j].is_string()) return FieldError(where + "[" + std::to_string(j) + "]", "expected a string");
      tag.push_back(t[j].get<std::string>());
    }
    tags.push_back(std::move(tag));
  }
  RETURN_IF_ERROR(CheckTags(tags, limits));
  return tags;
}

// Parses after the size/depth guard, refusing duplicate keys.
absl::StatusOr<json> ParseStrictJson(std::string_view text, const EventLimits& limits) {
  RETURN_IF_ERROR(CheckJsonBounds(text, JsonBounds{limits.max_json_bytes, kMaxDepth}));
  JsonParsed<json> parsed = ParseNotingDuplicates(text);
  if (parsed.doc.is_discarded()) return absl::InvalidArgumentError("nostr event is not valid JSON");
  if (!parsed.duplicates.empty()) {
    return absl::InvalidArgumentError("nostr event has a duplicate key \"" + parsed.duplicates.front().key + "\"");
  }
  return std::move(parsed.doc);
}

absl::Status CheckKeys(const json& v, std::initializer_list<std::string_view> required,
                       std::initializer_list<std::string_view> optional) {
  if (!v.is_object()) return absl::InvalidArgumentError("nostr event must be a JSON object");
  for (const auto& item : v.items()) {
    const std::string& k = item.key();
    if (std::find(required.begin(), required.end(), k) == required.end() &&
        std::find(optional.begin(), optional.end(), k) == optional.end()) {
      return absl::InvalidArgumentError("nostr event has an unexpected key \"" + k.substr(0, 64) + "\"");
    }
  }
  for (std::string_view k : required) {
    if (!v.contains(k)) return FieldError(std::string(k), "missing");
  }
  return absl::OkStatus();
}

absl::StatusOr<UnsignedEvent> TemplateFromFields(const json& v, const EventLimits& limits) {
  ASSIGN_OR_RETURN(uint64_t created_at, ParseInteger(v["created_at"], "created_at", kMaxCreatedAt));
  ASSIGN_OR_RETURN(uint64_t kind, ParseInteger(v["kind"], "kind", kMaxKind));
  ASSIGN_OR_RETURN(std::vector<Tag> tags, ParseTags(v["tags"], limits));
  if (!v["content"].is_string()) return FieldError("content", "expected a string");
  return UnsignedEvent::Create(created_at, static_cast<uint32_t>(kind), std::move(tags),
                               v["content"].get<std::string>(), limits);
}

}  // namespace

// --- UnsignedEvent ----------------------------------------------------------

absl::StatusOr<UnsignedEvent> UnsignedEvent::Create(uint64_t created_at, uint32_t kind, std::vector<Tag> tags,
                                                    std::string content, const EventLimits& limits) {
  if (created_at > kMaxCreatedAt) return FieldError("created_at", "must be at most " + std::to_string(kMaxCreatedAt));
  if (kind > kMaxKind) return FieldError("kind", "must be at most " + std::to_string(kMaxKind));
  RETURN_IF_ERROR(CheckTags(tags, limits));
  RETURN_IF_ERROR(CheckString(content, "content", limits.max_content_bytes));
  UnsignedEvent e;
  e.created_at_ = created_at;
  e.kind_ = kind;
  e.tags_ = std::move(tags);
  e.content_ = std::move(content);
  return e;
}

absl::StatusOr<UnsignedEvent> UnsignedEvent::Parse(std::string_view json_text, const EventLimits& limits) {
  ASSIGN_OR_RETURN(json v, ParseStrictJson(json_text, limits));
  return FromJson(v, limits);
}

absl::StatusOr<UnsignedEvent> UnsignedEvent::FromJson(const json& v, const EventLimits& limits) {
  RETURN_IF_ERROR(CheckKeys(v, {"created_at", "kind", "tags", "content"}, {"pubkey"}));
  ASSIGN_OR_RETURN(UnsignedEvent e, TemplateFromFields(v, limits));
  if (v.contains("pubkey")) {
    ASSIGN_OR_RETURN(e.expected_pubkey_, ParseLowerHex<32>(v["pubkey"], "pubkey"));
  }
  return e;
}

std::vector<std::string> UnsignedEvent::TagValues(std::string_view name) const {
  std::vector<std::string> out;
  for (const Tag& t : tags_) {
    if (t.size() >= 2 && t[0] == name) out.push_back(t[1]);
  }
  return out;
}

std::string SerializeForId(const crypto::XOnlyPublicKey& pubkey, const UnsignedEvent& event) {
  return Serialize(pubkey, event, /*escape_other_controls=*/false);
}

crypto::Hash256 ComputeEventId(const crypto::XOnlyPublicKey& pubkey, const UnsignedEvent& event) {
  return crypto::Sha256(AsBytes(SerializeForId(pubkey, event)));
}

// --- SignedEvent ------------------------------------------------------------

absl::StatusOr<SignedEvent> SignedEvent::Parse(std::string_view json_text, const EventLimits& limits) {
  ASSIGN_OR_RETURN(json v, ParseStrictJson(json_text, limits));
  return FromJson(v, limits);
}

absl::StatusOr<SignedEvent> SignedEvent::FromJson(const json& v, const EventLimits& limits) {
  RETURN_IF_ERROR(CheckKeys(v, {"id", "pubkey", "created_at", "kind", "tags", "content", "sig"}, {}));
  SignedEvent s;
  ASSIGN_OR_RETURN(s.event_, TemplateFromFields(v, limits));
  ASSIGN_OR_RETURN(s.id_, ParseLowerHex<32>(v["id"], "id"));
  ASSIGN_OR_RETURN(s.pubkey_, ParseLowerHex<32>(v["pubkey"], "pubkey"));
  ASSIGN_OR_RETURN(s.sig_, ParseLowerHex<64>(v["sig"], "sig"));
  return s;
}

absl::Status SignedEvent::Verify() const {
  crypto::Hash256 computed = ComputeEventId(pubkey_, event_);
  if (computed != id_) {
    // The other common serialization (\u00XX for the remaining controls);
    // identical to the first unless such a character is present.
    const std::string alt = Serialize(pubkey_, event_, /*escape_other_controls=*/true);
    computed = crypto::Sha256(AsBytes(alt));
    if (computed != id_) {
      return absl::InvalidArgumentError("nostr event id does not match the event's fields (expected " +
                                        HexEncode(ComputeEventId(pubkey_, event_)) + ")");
    }
  }
  if (!crypto::SchnorrVerify(pubkey_, computed, sig_)) {
    return absl::InvalidArgumentError("nostr event signature does not verify for its pubkey and id");
  }
  return absl::OkStatus();
}

std::string SignedEvent::IdHex() const { return HexEncode(id_); }
std::string SignedEvent::PubkeyHex() const { return HexEncode(pubkey_); }
std::string SignedEvent::SigHex() const { return HexEncode(sig_); }

std::string SignedEvent::ToJsonText() const {
  std::string out = "{\"id\":\"" + IdHex() + "\",\"pubkey\":\"" + PubkeyHex() +
                    "\",\"created_at\":" + std::to_string(event_.created_at()) +
                    ",\"kind\":" + std::to_string(event_.kind()) + ",\"tags\":";
  AppendTags(out, event_.tags(), /*escape_other_controls=*/true);
  out += ",\"content\":";
  AppendString(out, event_.content(), /*escape_other_controls=*/true);
  out += ",\"sig\":\"" + SigHex() + "\"}";
  return out;
}

json SignedEvent::ToJson() const { return json::parse(ToJsonText()); }

absl::StatusOr<SignedEvent> SignEvent(const SecretBytes& private_key, const UnsignedEvent& event) {
  auto refuse = [](const std::string& field, int c) {
    return FieldError(field, "control character U+00" + std::string(1, kHexDigits[c >> 4]) +
                                 std::string(1, kHexDigits[c & 0x0F]) +
                                 " is serialized differently by NIP-01 implementations; refusing to sign");
  };
  if (int c = FindAmbiguousControl(event.content()); c >= 0) return refuse("content", c);
  for (size_t i = 0; i < event.tags().size(); ++i) {
    for (size_t j = 0; j < event.tags()[i].size(); ++j) {
      if (int c = FindAmbiguousControl(event.tags()[i][j]); c >= 0) {
        return refuse("tags[" + std::to_string(i) + "][" + std::to_string(j) + "]", c);
      }
    }
  }
  ASSIGN_OR_RETURN(crypto::XOnlyPublicKey pubkey, crypto::DeriveXOnlyPublicKey(private_key));
  if (event.expected_pubkey() && *event.expected_pubkey() != pubkey) {
    return FieldError("pubkey", "does not match the signing key's public key " + HexEncode(pubkey));
  }
  SignedEvent s;
  s.event_ = event;
  s.pubkey_ = pubkey;
  s.id_ = ComputeEventId(pubkey, event);
  ASSIGN_OR_RETURN(s.sig_, crypto::SchnorrSign(private_key, s.id_));
  // A faulty signature must never leave (fault attacks, broken builds).
  RETURN_IF_ERROR(s.Verify());
  return s;
}

}  // namespace sigil::nostr
