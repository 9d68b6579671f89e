#include "policy/json_source_map.h"

#include <cstdint>
#include <set>
#include <vector>

#include "base/status.h"

namespace sigil::policy {
namespace {

bool IsPlainKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

int Hex4(std::string_view s, size_t at) {
  if (at + 4 > s.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + 4; ++i) {
    char c = s[i];
    int n = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (n < 0) return -1;
    v = v * 16 + n;
  }
  return v;
}

// A recursive walk over valid JSON. Depth is bounded by max_depth, so the
// recursion is too.
class Scanner {
 public:
  Scanner(std::string_view text, int max_depth, std::string_view target)
      : text_(text), max_depth_(max_depth), target_(target) {}

  absl::Status Run() {
    SkipSpace();
    return Value(0);
  }
  std::optional<size_t> found() const { return found_; }
  std::optional<size_t> nearest() const { return nearest_; }

 private:
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) ++pos_;
  }

  bool done() const { return found_.has_value(); }

  void NoteValue() {
    if (target_.empty()) return;
    if (path_ == target_) {
      found_ = pos_;
      return;
    }
    // An enclosing value: the target continues with '.' or '['.
    if (target_.size() > path_.size() && target_.substr(0, path_.size()) == path_ &&
        (path_.empty() || target_[path_.size()] == '.' || target_[path_.size()] == '[')) {
      nearest_ = pos_;
    }
  }

  // Skips a string value without decoding it (only keys need decoding).
  void SkipString() {
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') pos_ += text_[pos_] == '\\' ? 2 : 1;
    ++pos_;
  }

  std::string String() {
    // REQUIRES: text_[pos_] == '"'
    ++pos_;
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) break;
      char e = text_[pos_++];
      switch (e) {
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          int hi = Hex4(text_, pos_);
          if (hi < 0) break;
          pos_ += 4;
          uint32_t cp = static_cast<uint32_t>(hi);
          if (hi >= 0xd800 && hi < 0xdc00 && pos_ + 6 <= text_.size() && text_[pos_] == '\\' && text_[pos_ + 1] == 'u') {
            int lo = Hex4(text_, pos_ + 2);
            if (lo >= 0xdc00 && lo < 0xe000) {
              cp = 0x10000 + ((static_cast<uint32_t>(hi) - 0xd800) << 10) + (static_cast<uint32_t>(lo) - 0xdc00);
              pos_ += 6;
            }
          }
          AppendUtf8(out, cp);
          break;
        }
        default: out.push_back(e); break;
      }
    }
    ++pos_;  // closing quote
    return out;
  }

  absl::Status Error(size_t at, const std::string& what) {
    JsonLocation loc = LocateOffset(text_, at);
    std::string where = path_.empty() ? std::string("(document)") : path_;
    return absl::InvalidArgumentError(where + " (line " + std::to_string(loc.line) + ", column " +
                                      std::to_string(loc.column) + "): " + what);
  }

  absl::Status Value(int depth) {
    if (done()) return absl::OkStatus();
    NoteValue();
    if (done()) return absl::OkStatus();
    if (pos_ >= text_.size()) return absl::OkStatus();
    char c = text_[pos_];
    if (c == '{' || c == '[') {
      if (depth >= max_depth_) return Error(pos_, "nested deeper than " + std::to_string(max_depth_) + " levels");
      return c == '{' ? Object(depth + 1) : Array(depth + 1);
    }
    if (c == '"') {
      SkipString();
      return absl::OkStatus();
    }
    // number or literal
    while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '}' && text_[pos_] != ']' &&
           text_[pos_] != ' ' && text_[pos_] != '\n' && text_[pos_] != '\r' && text_[pos_] != '\t') {
      ++pos_;
    }
    return absl::OkStatus();
  }

  absl::Status Object(int depth) {
    ++pos_;  // '{'
    std::set<std::string> seen;
    size_t saved = path_.size();
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return absl::OkStatus();
    }
    while (pos_ < text_.size()) {
      SkipSpace();
      size_t key_at = pos_;
      std::string key = String();
      path_ = JsonPathKey(std::string_view(path_).substr(0, saved), key);
      if (!seen.insert(key).second) {
        return Error(key_at, "duplicate key \"" + key + "\" (JSON would silently keep only the last one)");
      }
      SkipSpace();
      ++pos_;  // ':'
      SkipSpace();
      RETURN_IF_ERROR(Value(depth));
      if (done()) return absl::OkStatus();
      path_.resize(saved);
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      ++pos_;  // '}'
      break;
    }
    path_.resize(saved);
    return absl::OkStatus();
  }

  absl::Status Array(int depth) {
    ++pos_;  // '['
    size_t saved = path_.size();
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return absl::OkStatus();
    }
    size_t index = 0;
    while (pos_ < text_.size()) {
      SkipSpace();
      path_.resize(saved);
      path_ = JsonPathIndex(path_, index++);
      RETURN_IF_ERROR(Value(depth));
      if (done()) return absl::OkStatus();
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      ++pos_;  // ']'
      break;
    }
    path_.resize(saved);
    return absl::OkStatus();
  }


  std::string_view text_;
  int max_depth_;
  std::string_view target_;
  size_t pos_ = 0;
  std::string path_;
  std::optional<size_t> found_;
  std::optional<size_t> nearest_;
};

}  // namespace

JsonLocation LocateOffset(std::string_view text, size_t offset) {
  JsonLocation loc;
  loc.offset = offset;
  if (offset > text.size()) offset = text.size();
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++loc.line;
      loc.column = 1;
    } else {
      ++loc.column;
    }
  }
  return loc;
}

std::string JsonPathKey(std::string_view path, std::string_view key) {
  std::string out(path);
  if (IsPlainKey(key)) {
    if (!out.empty()) out.push_back('.');
    out.append(key);
    return out;
  }
  out += "[\"";
  for (char c : key) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out += "\"]";
  return out;
}

std::string JsonPathIndex(std::string_view path, size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

absl::Status CheckJsonStructure(std::string_view text, int max_depth) {
  Scanner scanner(text, max_depth, {});
  return scanner.Run();
}

std::optional<JsonLocation> FindJsonValue(std::string_view text, std::string_view path) {
  Scanner scanner(text, 1 << 20, path);
  if (path.empty()) {
    size_t i = 0;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t')) ++i;
    return LocateOffset(text, i);
  }
  if (!scanner.Run().ok()) return std::nullopt;
  if (scanner.found()) return LocateOffset(text, *scanner.found());
  if (scanner.nearest()) return LocateOffset(text, *scanner.nearest());
  return std::nullopt;
}

std::string_view JsonNumberToken(std::string_view text, size_t offset) {
  size_t end = offset;
  while (end < text.size()) {
    char c = text[end];
    bool ok = (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
    if (!ok) break;
    ++end;
  }
  return text.substr(offset, end - offset);
}

}  // namespace sigil::policy
