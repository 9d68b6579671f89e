#include "audit/record.h"

#include <cstring>
#include <string_view>
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
  const char* const data = s.data();
  const size_t size = s.size();
  for (size_t i = 0; i < size;) {
    if (static_cast<uint8_t>(data[i]) < 0x80) {  // ASCII fast path
      ++i;
      continue;
    }
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// `field` and `suffix` name the field in an error (joined only on failure).
absl::Status CheckString(std::string_view field, std::string_view value, std::string_view suffix = {}) {
  if (value.size() > kMaxFieldBytes) {
    return absl::InvalidArgumentError("audit record field " + std::string(field) + std::string(suffix) +
                                      " is longer than " + std::to_string(kMaxFieldBytes) + " bytes");
  }
  if (!IsValidUtf8(value)) {
    return absl::InvalidArgumentError("audit record field " + std::string(field) + std::string(suffix) +
                                      " is not valid UTF-8");
  }
  return absl::OkStatus();
}

absl::Status CheckHashHex(std::string_view field, std::string_view value) {
  if (value.size() > kMaxHashHexChars || value.size() % 2 != 0) {
    return absl::InvalidArgumentError("audit record field " + std::string(field) +
                                      " must be an even number of lower-case hex digits, at most " +
                                      std::to_string(kMaxHashHexChars));
  }
  for (const char *p = value.data(), *end = p + value.size(); p < end; ++p) {
    const char c = *p;
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
  const char* p = s.data();
  const char* const end = p + s.size();
  while (p < end) {
    // Copy runs of plain bytes at once (this is the verifier's hot path).
    const char* run = p;
    while (p < end && static_cast<uint8_t>(*p) >= 0x20 && *p != '"' && *p != '\\') ++p;
    if (p > run) out.append(run, static_cast<size_t>(p - run));
    if (p == end) break;
    const auto c = static_cast<uint8_t>(*p++);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(esc, 6);
      }
    }
  }
  out.push_back('"');
}

void AppendKey(std::string& out, std::string_view key) {
  AppendJsonString(out, key);
  out.push_back(':');
}

// A strict parser for exactly the canonical form: keys in canonical order,
// only canonical escapes, no leading zeros, extra keys strictly increasing.
// Anything it accepts re-encodes to the same bytes (the fuzz target checks
// this). Written over raw pointers: it is the verifier's hot path.
class Parser {
 public:
  explicit Parser(std::string_view in) : begin_(in.data()), p_(in.data()), end_(in.data() + in.size()) {}

  using StringMap = std::map<std::string, std::string>;

  // Consumes `literal` (e.g. `,"key":`) or fails naming it.
  absl::Status Lit(std::string_view literal) {
    if (static_cast<size_t>(end_ - p_) < literal.size() || std::memcmp(p_, literal.data(), literal.size()) != 0) {
      return Error("expected " + std::string(literal));
    }
    p_ += literal.size();
    return absl::OkStatus();
  }
  absl::Status End() const {
    if (p_ != end_) return Error("trailing bytes after the record");
    return absl::OkStatus();
  }

  absl::Status String(std::string& out) {
    if (p_ == end_ || *p_ != '"') return Error("expected a string");
    ++p_;
    for (;;) {
      // A run of plain ASCII, appended at once.
      const char* run = p_;
      while (p_ < end_) {
        const auto c = static_cast<uint8_t>(*p_);
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
        ++p_;
      }
      if (p_ > run) out.append(run, static_cast<size_t>(p_ - run));
      if (p_ == end_) return Error("unterminated string");
      const auto c = static_cast<uint8_t>(*p_);
      if (c == '"') {
        ++p_;
        return absl::OkStatus();
      }
      if (c < 0x20) return Error("raw control character in string");
      if (c >= 0x80) {
        const size_t n = Utf8SequenceLength(std::string_view(p_, static_cast<size_t>(end_ - p_)), 0);
        if (n == 0) return Error("invalid UTF-8");
        out.append(p_, n);
        p_ += n;
        continue;
      }
      // Backslash.
      if (end_ - p_ < 2) return Error("unterminated escape");
      const char e = p_[1];
      p_ += 2;
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          // Only \u00xx (lower-case hex) for a control character that has no
          // short escape is canonical.
          if (end_ - p_ < 4 || p_[0] != '0' || p_[1] != '0') return Error("non-canonical \\u escape");
          int v = 0;
          for (int k = 2; k < 4; ++k) {
            const char h = p_[k];
            if (h >= '0' && h <= '9') {
              v = v * 16 + (h - '0');
            } else if (h >= 'a' && h <= 'f') {
              v = v * 16 + (h - 'a' + 10);
            } else {
              return Error("non-canonical \\u escape");
            }
          }
          if (v >= 0x20 || v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t') {
            return Error("non-canonical \\u escape");
          }
          out.push_back(static_cast<char>(v));
          p_ += 4;
          break;
        }
        default:
          return Error("non-canonical escape");
      }
    }
  }

  absl::Status Uint(uint64_t& out) {
    const char* start = p_;
    uint64_t v = 0;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      const uint64_t d = static_cast<uint64_t>(*p_ - '0');
      if (v > (UINT64_MAX - d) / 10) return Error("integer out of range");
      v = v * 10 + d;
      ++p_;
    }
    if (p_ == start) return Error("expected an unsigned integer");
    if (p_ - start > 1 && *start == '0') return Error("leading zero");
    out = v;
    return absl::OkStatus();
  }

  absl::Status Map(StringMap& out) {
    RETURN_IF_ERROR(Lit("{"));
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return absl::OkStatus();
    }
    for (;;) {
      if (out.size() >= kMaxExtraEntries) return Error("too many extra entries");
      std::string key, value;
      RETURN_IF_ERROR(String(key));
      // Byte-wise increasing, as std::map orders them when encoding.
      if (!out.empty() && !(out.rbegin()->first < key)) return Error("extra keys are not in canonical order");
      RETURN_IF_ERROR(Lit(":"));
      RETURN_IF_ERROR(String(value));
      out.emplace_hint(out.end(), std::move(key), std::move(value));
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      return Lit("}");
    }
  }

 private:
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError("audit record is not canonical JSON at byte " +
                                      std::to_string(p_ - begin_) + ": " + std::string(what));
  }

  const char* const begin_;
  const char* p_;
  const char* const end_;
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
    RETURN_IF_ERROR(CheckString("extra.", v, k));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeRecord(const AuditRecord& r) {
  RETURN_IF_ERROR(ValidateRecord(r));
  std::string out;
  size_t estimate = 200 + r.type.size() + r.principal.size() + r.key.size() + r.decision.size() + r.rule.size() +
                    r.reason.size() + r.payload_hash.size() + r.signature_hash.size();
  for (const auto& [k, v] : r.extra) estimate += k.size() + v.size() + 6;
  out.reserve(estimate);
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
  Parser p(in);
  AuditRecord r;
  RETURN_IF_ERROR(p.Lit("{\"decision\":"));
  RETURN_IF_ERROR(p.String(r.decision));
  RETURN_IF_ERROR(p.Lit(",\"extra\":"));
  RETURN_IF_ERROR(p.Map(r.extra));
  RETURN_IF_ERROR(p.Lit(",\"key\":"));
  RETURN_IF_ERROR(p.String(r.key));
  RETURN_IF_ERROR(p.Lit(",\"payload_hash\":"));
  RETURN_IF_ERROR(p.String(r.payload_hash));
  RETURN_IF_ERROR(p.Lit(",\"principal\":"));
  RETURN_IF_ERROR(p.String(r.principal));
  RETURN_IF_ERROR(p.Lit(",\"reason\":"));
  RETURN_IF_ERROR(p.String(r.reason));
  RETURN_IF_ERROR(p.Lit(",\"rule\":"));
  RETURN_IF_ERROR(p.String(r.rule));
  RETURN_IF_ERROR(p.Lit(",\"seq\":"));
  RETURN_IF_ERROR(p.Uint(r.seq));
  RETURN_IF_ERROR(p.Lit(",\"signature_hash\":"));
  RETURN_IF_ERROR(p.String(r.signature_hash));
  RETURN_IF_ERROR(p.Lit(",\"time\":"));
  RETURN_IF_ERROR(p.Uint(r.time_ms));
  RETURN_IF_ERROR(p.Lit(",\"type\":"));
  RETURN_IF_ERROR(p.String(r.type));
  RETURN_IF_ERROR(p.Lit("}"));
  RETURN_IF_ERROR(p.End());
  RETURN_IF_ERROR(ValidateRecord(r));
  return r;
}

}  // namespace sigil::audit
