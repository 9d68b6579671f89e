// HttpHeaders: an ordered list of HTTP header fields with case-insensitive
// name lookup (RFC 9110 §5.1). Used by both the server and the client.
//
// Value type; not synchronized (copy it or guard it externally to share).
// Names and values are stored as given; nothing here validates them against
// the HTTP grammar (the server and client reject CR/LF before writing).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sigil::net {

class HttpHeaders {
 public:
  using Field = std::pair<std::string, std::string>;

  HttpHeaders() = default;
  HttpHeaders(std::initializer_list<Field> fields) : fields_(fields) {}

  // Appends a field (a name may repeat, e.g. Set-Cookie).
  void Add(std::string_view name, std::string_view value);
  // Replaces every field named `name` (any case) with one field.
  void Set(std::string_view name, std::string_view value);
  // Removes every field named `name` (any case).
  void Remove(std::string_view name);
  // Overwrites every value's memory with zeros and empties it (names stay):
  // for requests whose headers carried a bearer token.
  void WipeValues();

  // The first value for `name` (any case), or nullopt.
  std::optional<std::string> Get(std::string_view name) const;
  // The first value, or `fallback` when absent.
  std::string GetOr(std::string_view name, std::string_view fallback) const;
  bool Has(std::string_view name) const;
  // Every value for `name`, in order.
  std::vector<std::string> GetAll(std::string_view name) const;
  // Every value for `name` joined with ", ", as a recipient may combine
  // repeated field lines of a list-valued field (RFC 9110 section 5.3), or
  // nullopt when absent. For fields such as Accept sent on several lines.
  std::optional<std::string> GetCombined(std::string_view name) const;

  const std::vector<Field>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<Field> fields_;
};

// ASCII case-insensitive equality (header names, schemes, tokens).
bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b);

}  // namespace sigil::net
