// Fuzzes the JSON-RPC number-id scanner (server/json_rpc_ids.h), which reads
// request bodies before anything else: it must never crash or read past the
// text, every span it returns must be a JSON number inside the text, and on
// text the JSON parser accepts, an id the parser holds as an integer must be
// the number the span spells. ZeroUnreadableIds must leave parseable text
// parseable, and a reply written with a span's bytes must parse back with
// that id.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "server/json_rpc_ids.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nlohmann::json;
  using sigil::server::JsonTextSpan;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto ids = sigil::server::ScanNumberIds(text);
  for (const auto& id : ids) {
    if (!id) continue;
    if (id->len == 0 || id->pos > text.size() || id->len > text.size() - id->pos) std::abort();
    const std::string_view raw = id->In(text);
    if (raw.find_first_of(" \t\r\n,]}\"") != std::string_view::npos) std::abort();
  }

  const json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_discarded() && (parsed.is_object() || parsed.is_array())) {
    // The scan may stop early (a UTF-8 BOM, which the parser skips, stops it
    // at once): the dispatcher then echoes the parsed id. Never more spans
    // than calls, and those it has are in call order.
    const size_t elements = parsed.is_object() ? 1 : parsed.size();
    if (ids.size() > elements) std::abort();
    for (size_t i = 0; i < ids.size(); ++i) {
      const json& e = parsed.is_object() ? parsed : parsed[i];
      const auto& id = ids[i];
      if (!id) continue;
      if (!e.is_object() || !e.contains("id") || !e["id"].is_number()) std::abort();
      const json spelled = json::parse(id->In(text), nullptr, false);
      if (spelled.is_discarded()) std::abort();  // the parser read this same text as a number
      if (e["id"].is_number_integer() && spelled != e["id"]) std::abort();
      // The reply carries the caller's bytes and parses back to that number.
      const json reply = json::parse(sigil::server::DumpWithRawId({{"jsonrpc", "2.0"}, {"id", 0}, {"result", 1}},
                                                                  id->In(text)),
                                     nullptr, false);
      if (reply.is_discarded() || reply["id"] != spelled) std::abort();
    }
  }
  if (auto zeroed = sigil::server::ZeroUnreadableIds(text, ids)) {
    if (!parsed.is_discarded() && json::parse(*zeroed, nullptr, false).is_discarded()) std::abort();
  }
  return 0;
}
