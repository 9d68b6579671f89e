#include "audit/record.h"

#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"

namespace sigil::audit {
namespace {

// Returns the length of the UTF-8 sequence at s[i] or 0 if it is invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

absl::Status CheckString(std::string_view field, std::string_view value) {
  if (value.size() > kMaxFieldBytes) {
    return absl::InvalidArgumentError("audit record field " + std::string(field) + " is longer than " +
                                      std::to_string(kMaxFieldBytes) + " bytes");
  }
  if (!IsValidUtf8(value)) {
    return absl::InvalidArgumentError("audit record field " + std::string(field) + " is not valid UTF-8");
  }
  return absl::OkStatus();
}

absl::Status CheckHashHex(std::string_view field, std::string_view value) {
  if (value.size() > kMaxHashHexChars || value.size() % 2 != 0) {
    return absl::InvalidArgumentError("audit record field " + std::string(field) +
                                      " must be an even number of lower-case hex digits, at most " +
                                      std::to_string(kMaxHashHexChars));
  }
  for (char c : value) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return absl::InvalidArgumentError("audit record field " + std::string(field) +
                                        " must be lower-case hex without 0x");
    }
  }
  return absl::OkStatus();
}

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    const auto c = static_cast<uint8_t>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void AppendKey(std::string& out, std::string_view key) {
  AppendJsonString(out, key);
  out.push_back(':');
}

// A small strict parser for the record grammar: an object whose values are
// strings, unsigned integers or objects of strings. Canonicality is then
// established by re-encoding and comparing bytes.
class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  using StringMap = std::map<std::string, std::string>;
  using Value = std::variant<std::string, uint64_t, StringMap>;

  absl::StatusOr<std::map<std::string, Value>> ParseTop() {
    std::map<std::string, Value> fields;
    RETURN_IF_ERROR(Expect('{'));
    if (Peek() == '}') {
      ++pos_;
    } else {
      for (;;) {
        ASSIGN_OR_RETURN(std::string key, ParseString());
        RETURN_IF_ERROR(Expect(':'));
        Value value;
        if (Peek() == '"') {
          ASSIGN_OR_RETURN(value, ParseString());
        } else if (Peek() == '{') {
          ASSIGN_OR_RETURN(value, ParseStringMap());
        } else {
          ASSIGN_OR_RETURN(value, ParseUint());
        }
        if (!fields.emplace(std::move(key), std::move(value)).second) return Error("duplicate key");
        if (Peek() == ',') {
          ++pos_;
          continue;
        }
        RETURN_IF_ERROR(Expect('}'));
        break;
      }
    }
    if (pos_ != in_.size()) return Error("trailing bytes after the record");
    return fields;
  }

 private:
  char Peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }

  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError("audit record is not canonical JSON at byte " + std::to_string(pos_) +
                                      ": " + std::string(what));
  }

  absl::Status Expect(char c) {
    if (Peek() != c || pos_ >= in_.size()) return Error(std::string("expected '") + c + "'");
    ++pos_;
    return absl::OkStatus();
  }

  absl::StatusOr<StringMap> ParseStringMap() {
    StringMap map;
    RETURN_IF_ERROR(Expect('{'));
    if (Peek() == '}') {
      ++pos_;
      return map;
    }
    for (;;) {
      if (map.size() >= kMaxExtraEntries) return Error("too many extra entries");
      ASSIGN_OR_RETURN(std::string key, ParseString());
      RETURN_IF_ERROR(Expect(':'));
      ASSIGN_OR_RETURN(std::string value, ParseString());
      if (!map.emplace(std::move(key), std::move(value)).second) return Error("duplicate key in extra");
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      RETURN_IF_ERROR(Expect('}'));
      return map;
    }
  }

  absl::StatusOr<uint64_t> ParseUint() {
    const size_t start = pos_;
    uint64_t v = 0;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') {
      const uint64_t d = static_cast<uint64_t>(in_[pos_] - '0');
      if (v > (UINT64_MAX - d) / 10) return Error("integer out of range");
      v = v * 10 + d;
      ++pos_;
    }
    if (pos_ == start) return Error("expected a string, an object or an unsigned integer");
    if (pos_ - start > 1 && in_[start] == '0') return Error("leading zero");
    return v;
  }

  absl::StatusOr<std::string> ParseString() {
    RETURN_IF_ERROR(Expect('"'));
    std::string out;
    for (;;) {
      if (pos_ >= in_.size()) return Error("unterminated string");
      const char c = in_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<uint8_t>(c) < 0x20) return Error("raw control character in string");
      if (c != '\\') {
        // Copy one UTF-8 sequence.
        size_t n = Utf8SequenceLength(in_, pos_);
        if (n == 0) return Error("invalid UTF-8");
        out.append(in_.substr(pos_, n));
        pos_ += n;
        continue;
      }
      if (pos_ + 1 >= in_.size()) return Error("unterminated escape");
      const char e = in_[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          // Only \u00xx for control characters is canonical.
          if (pos_ + 4 > in_.size() || in_.substr(pos_, 2) != "00") return Error("unsupported \\u escape");
          int v = 0;
          for (size_t k = 2; k < 4; ++k) {
            const char h = in_[pos_ + k];
            int d;
            if (h >= '0' && h <= '9') {
              d = h - '0';
            } else if (h >= 'a' && h <= 'f') {
              d = h - 'a' + 10;
            } else {
              return Error("bad \\u escape");
            }
            v = v * 16 + d;
          }
          if (v >= 0x20) return Error("unsupported \\u escape");
          out.push_back(static_cast<char>(v));
          pos_ += 4;
          break;
        }
        default:
          return Error("unsupported escape");
      }
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

absl::Status ValidateRecord(const AuditRecord& r) {
  if (r.type.empty() || r.type.size() > kMaxTypeBytes) {
    return absl::InvalidArgumentError("audit record type must be 1.." + std::to_string(kMaxTypeBytes) +
                                      " bytes");
  }
  for (char c : r.type) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
      return absl::InvalidArgumentError("audit record type \"" + r.type +
                                        "\" may only hold a-z, 0-9, '.', '_' and '-'");
    }
  }
  RETURN_IF_ERROR(CheckString("principal", r.principal));
  RETURN_IF_ERROR(CheckString("key", r.key));
  RETURN_IF_ERROR(CheckString("decision", r.decision));
  RETURN_IF_ERROR(CheckString("rule", r.rule));
  RETURN_IF_ERROR(CheckString("reason", r.reason));
  RETURN_IF_ERROR(CheckHashHex("payload_hash", r.payload_hash));
  RETURN_IF_ERROR(CheckHashHex("signature_hash", r.signature_hash));
  if (r.extra.size() > kMaxExtraEntries) {
    return absl::InvalidArgumentError("audit record has more than " + std::to_string(kMaxExtraEntries) +
                                      " extra fields");
  }
  for (const auto& [k, v] : r.extra) {
    RETURN_IF_ERROR(CheckString("extra key", k));
    RETURN_IF_ERROR(CheckString("extra." + k, v));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeRecord(const AuditRecord& r) {
  RETURN_IF_ERROR(ValidateRecord(r));
  std::string out;
  out.reserve(256 + r.reason.size());
  // Keys in byte-wise sorted order.
  out.push_back('{');
  AppendKey(out, "decision");
  AppendJsonString(out, r.decision);
  out.push_back(',');
  AppendKey(out, "extra");
  out.push_back('{');
  bool first = true;
  for (const auto& [k, v] : r.extra) {  // std::map iterates in byte-wise order
    if (!first) out.push_back(',');
    first = false;
    AppendKey(out, k);
    AppendJsonString(out, v);
  }
  out.push_back('}');
  out.push_back(',');
  AppendKey(out, "key");
  AppendJsonString(out, r.key);
  out.push_back(',');
  AppendKey(out, "payload_hash");
  AppendJsonString(out, r.payload_hash);
  out.push_back(',');
  AppendKey(out, "principal");
  AppendJsonString(out, r.principal);
  out.push_back(',');
  AppendKey(out, "reason");
  AppendJsonString(out, r.reason);
  out.push_back(',');
  AppendKey(out, "rule");
  AppendJsonString(out, r.rule);
  out.push_back(',');
  AppendKey(out, "seq");
  out += std::to_string(r.seq);
  out.push_back(',');
  AppendKey(out, "signature_hash");
  AppendJsonString(out, r.signature_hash);
  out.push_back(',');
  AppendKey(out, "time");
  out += std::to_string(r.time_ms);
  out.push_back(',');
  AppendKey(out, "type");
  AppendJsonString(out, r.type);
  out.push_back('}');
  if (out.size() > kMaxRecordBytes) {
    return absl::InvalidArgumentError("audit record encodes to " + std::to_string(out.size()) +
                                      " bytes; the limit is " + std::to_string(kMaxRecordBytes));
  }
  return out;
}

absl::StatusOr<AuditRecord> ParseRecord(std::span<const uint8_t> bytes) {
  if (bytes.size() > kMaxRecordBytes) {
    return absl::InvalidArgumentError("audit record is larger than " + std::to_string(kMaxRecordBytes) + " bytes");
  }
  const std::string_view in(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  Parser parser(in);
  ASSIGN_OR_RETURN(auto fields, parser.ParseTop());
  AuditRecord r;
  size_t used = 0;
  auto take_string = [&](const char* name, std::string& out) -> absl::Status {
    auto it = fields.find(name);
    if (it == fields.end() || !std::holds_alternative<std::string>(it->second)) {
      return absl::InvalidArgumentError(std::string("audit record lacks string field \"") + name + "\"");
    }
    out = std::move(std::get<std::string>(it->second));
    ++used;
    return absl::OkStatus();
  };
  auto take_uint = [&](const char* name, uint64_t& out) -> absl::Status {
    auto it = fields.find(name);
    if (it == fields.end() || !std::holds_alternative<uint64_t>(it->second)) {
      return absl::InvalidArgumentError(std::string("audit record lacks integer field \"") + name + "\"");
    }
    out = std::get<uint64_t>(it->second);
    ++used;
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(take_string("decision", r.decision));
  RETURN_IF_ERROR(take_string("key", r.key));
  RETURN_IF_ERROR(take_string("payload_hash", r.payload_hash));
  RETURN_IF_ERROR(take_string("principal", r.principal));
  RETURN_IF_ERROR(take_string("reason", r.reason));
  RETURN_IF_ERROR(take_string("rule", r.rule));
  RETURN_IF_ERROR(take_string("signature_hash", r.signature_hash));
  RETURN_IF_ERROR(take_string("type", r.type));
  RETURN_IF_ERROR(take_uint("seq", r.seq));
  RETURN_IF_ERROR(take_uint("time", r.time_ms));
  auto extra = fields.find("extra");
  if (extra == fields.end() || !std::holds_alternative<Parser::StringMap>(extra->second)) {
    return absl::InvalidArgumentError("audit record lacks object field \"extra\"");
  }
  r.extra = std::move(std::get<Parser::StringMap>(extra->second));
  ++used;
  if (used != fields.size()) return absl::InvalidArgumentError("audit record has unknown fields");
  // Canonical means byte-identical to our own encoding (key order, escapes).
  ASSIGN_OR_RETURN(std::string again, EncodeRecord(r));
  if (again != in) return absl::InvalidArgumentError("audit record is valid JSON but not in canonical form");
  return r;
}

}  // namespace sigil::audit
