#include "chains/ethereum/abi_type.h"

#include <cctype>
#include <optional>
#include <string>

#include "base/status.h"

namespace sigil::eth {
namespace {

// The number after `prefix` in `t` ("uint" + "256"), or nullopt if `t` is
// not prefix + 1..3 digits; -1 for a leading zero (never canonical).
std::optional<int> Suffix(std::string_view t, std::string_view prefix) {
  if (t.size() <= prefix.size() || t.size() > prefix.size() + 3 || t.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  int n = 0;
  for (char c : t.substr(prefix.size())) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (t[prefix.size()] == '0') return -1;
  return n;
}

bool IntegerBits(int n) { return n >= 8 && n <= 256 && n % 8 == 0; }

// Parses a parameter list: type ("," type)* ")" and nested tuples.
class ParameterListParser {
 public:
  explicit ParameterListParser(std::string_view text) : text_(text) {}

  absl::Status Parse() {
    if (Peek() != '(') return absl::InvalidArgumentError("a parameter list starts with \"(\"");
    ++pos_;
    if (Peek() == ')') {
      ++pos_;
    } else {
      RETURN_IF_ERROR(ParseList());
    }
    if (pos_ != text_.size()) return absl::InvalidArgumentError("unexpected text after the closing parenthesis");
    return absl::OkStatus();
  }

 private:
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  absl::Status ParseList() {
    for (;;) {
      RETURN_IF_ERROR(ParseType());
      char c = Peek();
      ++pos_;
      if (c == ')') return absl::OkStatus();
      if (c != ',') return absl::InvalidArgumentError("expected \",\" or \")\" after a type");
    }
  }

  absl::Status ParseType() {
    if (++depth_ > 32) return absl::InvalidArgumentError("types nested too deeply");
    if (Peek() == '(') {
      ++pos_;
      if (Peek() == ')') return absl::InvalidArgumentError("a tuple needs at least one component: \"()\"");
      RETURN_IF_ERROR(ParseList());
    } else {
      size_t start = pos_;
      while (pos_ < text_.size() && std::isalnum(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      RETURN_IF_ERROR(ParseAbiElementaryType(text_.substr(start, pos_ - start)).status());
    }
    while (Peek() == '[') {
      size_t start = ++pos_;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      std::string_view size = text_.substr(start, pos_ - start);
      if (Peek() != ']') return absl::InvalidArgumentError("an array is written T[] or T[k]");
      ++pos_;
      if (!size.empty() && (size[0] == '0' || size.size() > 9)) {
        return absl::InvalidArgumentError("array size \"" + std::string(size) +
                                          "\" must be a number from 1 without leading zeros");
      }
    }
    --depth_;
    return absl::OkStatus();
  }

  std::string_view text_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

absl::StatusOr<AbiElementaryType> ParseAbiElementaryType(std::string_view t) {
  using Kind = AbiElementaryType::Kind;
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        (t.empty() ? std::string("a parameter type is missing") : "\"" + std::string(t) + "\" is not a canonical ABI type") +
        why);
  };
  if (t.empty()) return bad("");
  static constexpr std::pair<std::string_view, Kind> kPlain[] = {{"address", Kind::kAddress}, {"bool", Kind::kBool},
                                                                 {"string", Kind::kString},   {"bytes", Kind::kBytes},
                                                                 {"function", Kind::kFunction}};
  for (const auto& [name, kind] : kPlain) {
    if (t == name) return AbiElementaryType{kind, 0, 0};
  }
  if (t == "uint" || t == "int" || t == "byte" || t == "fixed" || t == "ufixed") {
    std::string canonical = t == "byte"                                    ? std::string("bytes1")
                            : t.find("fixed") != std::string_view::npos ? std::string(t) + "128x18"
                                                                        : std::string(t) + "256";
    return absl::InvalidArgumentError("\"" + std::string(t) + "\" is an alias; selectors hash the canonical type (" +
                                      canonical + ")");
  }
  for (const auto& [prefix, kind] : {std::pair<std::string_view, Kind>{"uint", Kind::kUint}, {"int", Kind::kInt}}) {
    if (auto n = Suffix(t, prefix)) {
      if (IntegerBits(*n)) return AbiElementaryType{kind, static_cast<unsigned>(*n), 0};
      return bad(" (" + std::string(prefix) + "N needs N from 8 to 256 in steps of 8)");
    }
  }
  if (auto n = Suffix(t, "bytes")) {
    if (*n >= 1 && *n <= 32) return AbiElementaryType{Kind::kFixedBytes, static_cast<unsigned>(*n), 0};
    return bad(" (bytesN needs N from 1 to 32)");
  }
  for (const auto& [prefix, kind] :
       {std::pair<std::string_view, Kind>{"ufixed", Kind::kUfixed}, {"fixed", Kind::kFixed}}) {
    if (t.substr(0, prefix.size()) == prefix) {
      size_t x = t.find('x', prefix.size());
      if (x != std::string_view::npos) {
        auto m = Suffix(t.substr(0, x), prefix);
        auto n = Suffix("n" + std::string(t.substr(x + 1)), "n");
        if (m && n && IntegerBits(*m) && *n >= 1 && *n <= 80) {
          return AbiElementaryType{kind, static_cast<unsigned>(*m), static_cast<unsigned>(*n)};
        }
      }
      return bad(" (" + std::string(prefix) + "MxN needs M from 8 to 256 in steps of 8 and N from 1 to 80)");
    }
  }
  return bad("; the types are uintN, intN, bytesN, address, bool, string, bytes, function, arrays T[] / T[k] "
             "and tuples (T1,T2)");
}

absl::Status CheckAbiParameterList(std::string_view text) { return ParameterListParser(text).Parse(); }

}  // namespace sigil::eth
