#include "net/http_headers.h"

#include <algorithm>

#include "absl/strings/str_join.h"
#include "net/wiping_allocator.h"

namespace sigil::net {

namespace {
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

void HttpHeaders::Add(std::string_view name, std::string_view value) {
  fields_.emplace_back(std::string(name), std::string(value));
}

void HttpHeaders::Set(std::string_view name, std::string_view value) {
  Remove(name);
  Add(name, value);
}

void HttpHeaders::Remove(std::string_view name) {
  std::erase_if(fields_, [&](const Field& f) { return EqualsIgnoreAsciiCase(f.first, name); });
}

void HttpHeaders::WipeValues() {
  for (Field& f : fields_) WipeString(f.second);
}

std::optional<std::string> HttpHeaders::Get(std::string_view name) const {
  for (const Field& f : fields_) {
    if (EqualsIgnoreAsciiCase(f.first, name)) return f.second;
  }
  return std::nullopt;
}

std::string HttpHeaders::GetOr(std::string_view name, std::string_view fallback) const {
  std::optional<std::string> v = Get(name);
  return v ? *std::move(v) : std::string(fallback);
}

bool HttpHeaders::Has(std::string_view name) const { return Get(name).has_value(); }

std::vector<std::string> HttpHeaders::GetAll(std::string_view name) const {
  std::vector<std::string> out;
  for (const Field& f : fields_) {
    if (EqualsIgnoreAsciiCase(f.first, name)) out.push_back(f.second);
  }
  return out;
}

std::optional<std::string> HttpHeaders::GetCombined(std::string_view name) const {
  std::vector<std::string> all = GetAll(name);
  if (all.empty()) return std::nullopt;
  return absl::StrJoin(all, ", ");
}

}  // namespace sigil::net
