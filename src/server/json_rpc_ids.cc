#include "server/json_rpc_ids.h"

namespace sigil::server {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// A cursor over JSON text. Every step checks the end; on text that is not
// JSON a step fails and the scan stops.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : s_(text) {}

  void SkipSpace() {
    while (i_ < s_.size() && IsSpace(s_[i_])) ++i_;
  }
  bool At(char c) const { return i_ < s_.size() && s_[i_] == c; }
  bool Eat(char c) {
    if (!At(c)) return false;
    ++i_;
    return true;
  }
  // A string, its quotes included.
  bool SkipString() {
    if (!Eat('"')) return false;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '\\') {
        ++i_;
      } else if (c == '"') {
        return true;
      }
    }
    return false;
  }

  // Any value. Containers are skipped by counting brackets outside strings,
  // without recursion (the caller bounded the depth, but this needs none).
  bool SkipValue() {
    if (At('"')) return SkipString();
    if (At('{') || At('[')) {
      size_t depth = 0;
      while (i_ < s_.size()) {
        const char c = s_[i_];
        if (c == '"') {
          if (!SkipString()) return false;
          continue;
        }
        ++i_;
        if (c == '{' || c == '[') ++depth;
        if ((c == '}' || c == ']') && --depth == 0) return true;
      }
      return false;
    }
    // A number or a literal: up to the next delimiter.
    const size_t start = i_;
    while (i_ < s_.size() && !IsSpace(s_[i_]) && s_[i_] != ',' && s_[i_] != ']' && s_[i_] != '}') ++i_;
    return i_ > start;
  }

  // An object's members; `id` is the span of its "id" when that is a
  // number. False when the text is not a JSON object.
  bool ScanObject(std::optional<JsonTextSpan>& id) {
    id.reset();
    if (!Eat('{')) return false;
    int ids_seen = 0;
    SkipSpace();
    if (Eat('}')) return true;
    while (true) {
      SkipSpace();
      const size_t name_start = i_;
      if (!SkipString()) return false;
      const std::string_view name = s_.substr(name_start, i_ - name_start);
      bool is_id = name == "\"id\"";
      if (!is_id && name.find('\\') != std::string_view::npos) {
        // An escaped name: unescaped as the parser would.
        const nlohmann::json decoded = nlohmann::json::parse(name, nullptr, /*allow_exceptions=*/false);
        is_id = decoded.is_string() && decoded.get_ref<const std::string&>() == "id";
      }
      SkipSpace();
      if (!Eat(':')) return false;
      SkipSpace();
      const size_t value_start = i_;
      if (!SkipValue()) return false;
      if (is_id && ++ids_seen == 1) {
        const JsonTextSpan span{value_start, i_ - value_start};
        if (IsJsonNumber(span.In(s_))) id = span;
      }
      SkipSpace();
      if (Eat(',')) continue;
      if (Eat('}')) break;
      return false;
    }
    // A repeated "id": the dispatcher refuses the call with a null id.
    if (ids_seen > 1) id.reset();
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::vector<std::optional<JsonTextSpan>> ScanNumberIds(std::string_view text) {
  std::vector<std::optional<JsonTextSpan>> out;
  Scanner scan(text);
  scan.SkipSpace();
  if (scan.At('{')) {
    std::optional<JsonTextSpan> id;
    if (scan.ScanObject(id)) out.push_back(id);
    return out;
  }
  if (!scan.Eat('[')) return out;
  scan.SkipSpace();
  if (scan.At(']')) return out;
  while (true) {
    scan.SkipSpace();
    if (scan.At('{')) {
      std::optional<JsonTextSpan> id;
      if (!scan.ScanObject(id)) return out;
      out.push_back(id);
    } else {
      if (!scan.SkipValue()) return out;
      out.push_back(std::nullopt);
    }
    scan.SkipSpace();
    if (!scan.Eat(',')) return out;
  }
}

std::optional<std::string> ZeroUnreadableIds(std::string_view text, const std::vector<std::optional<JsonTextSpan>>& ids) {
  std::string out;
  size_t copied = 0;
  bool replaced = false;
  for (const std::optional<JsonTextSpan>& id : ids) {
    if (!id || id->len > kMaxNumberIdChars) continue;
    if (!nlohmann::json::parse(id->In(text), nullptr, /*allow_exceptions=*/false).is_discarded()) continue;
    out.append(text.substr(copied, id->pos - copied));
    out.push_back('0');
    copied = id->pos + id->len;
    replaced = true;
  }
  if (!replaced) return std::nullopt;
  out.append(text.substr(copied));
  return out;
}

std::string DumpWithRawId(nlohmann::json response, std::string_view raw_id) {
  response.erase("id");
  // The response always has "jsonrpc", so the dump is "{...}" with members.
  const std::string rest = response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out = "{\"id\":";
  out.append(raw_id);
  out.push_back(',');
  out.append(rest, 1, std::string::npos);
  return out;
}

}  // namespace sigil::server
