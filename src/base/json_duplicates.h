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
// (nlohmann's parser callback). Names are compared after unescaping
// ("a" == "\u0061"). The work is linear in the text; callers bound the text
// (CheckJsonBounds) first.
//
// `BasicJson` picks the string type the parser uses, its token buffer
// included: pass the wiping JSON type when the text may hold a secret, so no
// copy of a value is left in ordinary heap memory (only names are copied).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"

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
  // The first repeated name of each root array element (of the root
  // object when the root is not an array), in text order.
  std::vector<JsonDuplicateKey> duplicates;
};

// Parses `text` (bound it first) as BasicJson::parse does, last duplicate
// winning, and notes every object's repeated names for the caller to refuse.
template <typename BasicJson = nlohmann::json>
JsonParsed<BasicJson> ParseNotingDuplicates(std::string_view text) {
  JsonParsed<BasicJson> out;
  std::vector<std::unordered_set<std::string>> open_objects;  // names are not secret
  bool root_is_array = false;
  size_t elements = 0;
  size_t root_index = 0;
  size_t reported_for = static_cast<size_t>(-1);
  using Event = typename BasicJson::parse_event_t;
  // Depths as the parser reports them: the root container starts at 0, its
  // members and elements are at 1.
  auto callback = [&](int depth, Event event, BasicJson& parsed) -> bool {
    const bool starts = event == Event::object_start || event == Event::array_start || event == Event::value;
    if (depth == 0 && starts) root_is_array = event == Event::array_start;
    if (depth == 1 && starts && root_is_array) root_index = elements++;
    if (event == Event::object_start) {
      open_objects.emplace_back();
    } else if (event == Event::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == Event::key && !open_objects.empty() && parsed.is_string()) {
      const auto& name = parsed.template get_ref<const typename BasicJson::string_t&>();
      std::string key(name.data(), name.size());
      if (!open_objects.back().insert(key).second && reported_for != root_index) {
        reported_for = root_index;
        if (key.size() > 64) key.resize(64);
        out.duplicates.push_back({std::move(key), static_cast<size_t>(depth), root_is_array ? root_index : 0});
      }
    }
    return true;
  };
  out.doc = BasicJson::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (out.doc.is_discarded()) out.duplicates.clear();
  return out;
}

// The repeated names alone (see JsonParsed::duplicates); none for text that
// is not valid JSON.
inline std::vector<JsonDuplicateKey> FindDuplicateKeys(std::string_view text) {
  return ParseNotingDuplicates(text).duplicates;
}

// InvalidArgument naming the first duplicate ("<what> has a duplicate key
// \"to\" ...") or OK.
absl::Status DuplicateKeyError(const JsonDuplicateKey& d, std::string_view what);
inline absl::Status CheckNoDuplicateKeys(std::string_view text, std::string_view what) {
  std::vector<JsonDuplicateKey> found = FindDuplicateKeys(text);
  return found.empty() ? absl::OkStatus() : DuplicateKeyError(found.front(), what);
}

}  // namespace sigil
