// Duplicate member names in JSON text.
//
// nlohmann::json, like most parsers, keeps the last of two members with the
// same name and says nothing. A document that another component (an agent's
// own guard, a proxy, an approval screen) read with the first value would
// then mean something else here: {"to": A, "to": B} shown as a payment to A
// and signed to B. RFC 8259 §4 says names SHOULD be unique and I-JSON
// (RFC 7493 §2.3) forbids duplicates; Sigil refuses them wherever it reads
// untrusted JSON.
//
// ParseNotingDuplicates parses once and notes the repeated names as it goes
// (nlohmann's DOM builder, watched). Names are compared after unescaping
// ("a" == "\u0061"). The work is linear in the text; callers bound the text
// (CheckJsonBounds) first.
//
// `BasicJson` picks the string type the parser uses, its token buffer
// included: pass the wiping JSON type when the text may hold a secret, so
// values live in wiped memory (this copies only names). nlohmann's lexer also
// keeps the raw bytes of the current token in a plain std::vector<char>: the
// sigil binary zeroes every freed C++ heap block
// (daemon/wiping_operator_delete.cc).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>


namespace sigil {

struct JsonDuplicateKey {
  std::string key;        // the repeated name, cut to 64 bytes
  size_t depth = 0;       // containers around it, the object holding it included: 1 = the root object
  size_t root_index = 0;  // the root array's element it is in (0 when the root is not an array)
};

// A parsed document and the names its text repeats. `doc` is discarded
// (is_discarded()) when the text is not valid JSON.
template <typename BasicJson>
struct JsonParsed {
  BasicJson doc;
  // One repeated name for each root array element that has any (for the
  // root object when the root is not an array), in text order: the
  // shallowest, the first of those.
  std::vector<JsonDuplicateKey> duplicates;
};

namespace json_duplicates_internal {

// nlohmann's own DOM builder (what BasicJson::parse uses), with the events
// that open and close objects and name members watched on the way. Not the
// parser-callback route: there, nlohmann 3.11 rescans a container's members
// each time one of its objects closes, which is quadratic (a 1 MiB body of
// `[{},{},...]` would take minutes).
template <typename BasicJson>
class NotingDomParser : public nlohmann::detail::json_sax_dom_parser<BasicJson> {
  using Base = nlohmann::detail::json_sax_dom_parser<BasicJson>;

 public:
  NotingDomParser(BasicJson& result, std::vector<JsonDuplicateKey>& out) : Base(result, /*allow_exceptions=*/false), out_(out) {}

  bool null() { return Element(), Base::null(); }
  bool boolean(bool v) { return Element(), Base::boolean(v); }
  bool number_integer(typename BasicJson::number_integer_t v) { return Element(), Base::number_integer(v); }
  bool number_unsigned(typename BasicJson::number_unsigned_t v) { return Element(), Base::number_unsigned(v); }
  bool number_float(typename BasicJson::number_float_t v, const typename BasicJson::string_t& s) {
    return Element(), Base::number_float(v, s);
  }
  bool string(typename BasicJson::string_t& v) { return Element(), Base::string(v); }
  bool binary(typename BasicJson::binary_t& v) { return Element(), Base::binary(v); }
  bool start_object(std::size_t n) {
    Element();
    if (depth_++ == 0) root_is_array_ = false;
    open_objects_.emplace_back();
    return Base::start_object(n);
  }
  bool end_object() {
    --depth_;
    open_objects_.pop_back();
    return Base::end_object();
  }
  bool start_array(std::size_t n) {
    Element();
    if (depth_++ == 0) root_is_array_ = true;
    return Base::start_array(n);
  }
  bool end_array() {
    --depth_;
    return Base::end_array();
  }
  bool key(typename BasicJson::string_t& name) {
    std::string k(name.data(), name.size());  // a name, never a value: no secret
    if (!open_objects_.back().insert(k).second) Note(std::move(k));
    return Base::key(name);
  }

 private:
  // Directly inside a root array, a value or container is the next element.
  void Element() {
    if (depth_ == 1 && root_is_array_) root_index_ = elements_++;
  }
  // One per root element: the shallowest (the call object's own members
  // before anything nested in them), the first of those.
  void Note(std::string k) {
    if (k.size() > 64) k.resize(64);
    const size_t index = root_is_array_ ? root_index_ : 0;
    if (!out_.empty() && noted_for_ == root_index_) {
      if (depth_ < out_.back().depth) out_.back() = {std::move(k), depth_, index};
      return;
    }
    noted_for_ = root_index_;
    out_.push_back({std::move(k), depth_, index});
  }

  std::vector<JsonDuplicateKey>& out_;
  // Ordered sets, not hash sets: names are chosen by the sender, and a
  // fixed-seed string hash can be flooded with colliding names.
  std::vector<std::set<std::string>> open_objects_;
  size_t depth_ = 0;
  bool root_is_array_ = false;
  size_t elements_ = 0;
  size_t root_index_ = 0;
  size_t noted_for_ = static_cast<size_t>(-1);
};

}  // namespace json_duplicates_internal

// Parses `text` (bound it first) as BasicJson::parse does, last duplicate
// winning, and notes the repeated names for the caller to refuse.
template <typename BasicJson = nlohmann::json>
JsonParsed<BasicJson> ParseNotingDuplicates(std::string_view text) {
  JsonParsed<BasicJson> out;
  json_duplicates_internal::NotingDomParser<BasicJson> sax(out.doc, out.duplicates);
  auto input = nlohmann::detail::input_adapter(text.begin(), text.end());
  nlohmann::detail::parser<BasicJson, decltype(input)> parser(std::move(input), nullptr, /*allow_exceptions=*/false);
  if (!parser.sax_parse(&sax, /*strict=*/true) || sax.is_errored()) {
    out.doc = BasicJson(BasicJson::value_t::discarded);
    out.duplicates.clear();
  }
  return out;
}

// The repeated names alone (see JsonParsed::duplicates); none for text that
// is not valid JSON.
inline std::vector<JsonDuplicateKey> FindDuplicateKeys(std::string_view text) {
  return ParseNotingDuplicates(text).duplicates;
}

// "<what> has a duplicate key \"to\" (...)": the refusal's text.
std::string DuplicateKeyMessage(const JsonDuplicateKey& d, std::string_view what);

}  // namespace sigil
