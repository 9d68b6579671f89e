// Template implementation of JsonRpcDispatcher; include json_rpc.h instead.
#pragma once

#include "base/json_bounds.h"
#include "server/json_rpc_ids.h"

namespace sigil::server {

template <typename Context>
nlohmann::json JsonRpcDispatcher<Context>::ErrorResponse(const nlohmann::json& id, const RpcError& error) {
  nlohmann::json err = {{"code", error.code}, {"message", error.message}};
  if (!error.data.is_null()) err["data"] = error.data;
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(err)}};
}

template <typename Context>
nlohmann::json JsonRpcDispatcher<Context>::HandleOne(const nlohmann::json& call, const Context& ctx,
                                                     const JsonDuplicateKey* duplicate) const {
  if (!call.is_object()) return ErrorResponse(nullptr, {kInvalidRequest, "a JSON-RPC request must be an object", {}});
  if (duplicate != nullptr && duplicate->depth <= 1) {
    // Which "id", "method" or "params" the caller meant is unknown: the id
    // too, so it is answered null.
    return ErrorResponse(nullptr, {kInvalidRequest, DuplicateKeyMessage(*duplicate, "the request"), {}});
  }
  nlohmann::json id = nullptr;
  bool notification = true;
  if (auto it = call.find("id"); it != call.end()) {
    notification = false;
    if (!it->is_null() && !it->is_string() && !it->is_number()) {
      return ErrorResponse(nullptr, {kInvalidRequest, "\"id\" must be a string, a number or null", {}});
    }
    id = *it;
  }
  auto version = call.find("jsonrpc");
  if (version == call.end() || *version != "2.0") {
    return ErrorResponse(id, {kInvalidRequest, "\"jsonrpc\" must be \"2.0\"", {}});
  }
  auto method_it = call.find("method");
  if (method_it == call.end() || !method_it->is_string()) {
    return ErrorResponse(id, {kInvalidRequest, "\"method\" must be a string", {}});
  }
  const std::string& method = method_it->template get_ref<const std::string&>();
  nlohmann::json params = nlohmann::json::array();
  if (auto p = call.find("params"); p != call.end() && !p->is_null()) {
    if (!p->is_array() && !p->is_object()) {
      return ErrorResponse(id, {kInvalidRequest, "\"params\" must be an array or an object", {}});
    }
    params = *p;
  }
  RpcOutcome outcome;
  try {
    std::optional<RpcError> refused;
    if (duplicate != nullptr) {
      refused = RpcError{kInvalidParams, DuplicateKeyMessage(*duplicate, "params"),
                         {{"field", duplicate->key}}};
    } else if (gate_) {
      refused = gate_(method, ctx);
    }
    if (refused) {
      outcome = std::move(*refused);
    } else if (auto m = methods_.find(method); m != methods_.end()) {
      outcome = m->second(method, params, ctx);
    } else if (fallback_) {
      outcome = fallback_(method, params, ctx);
    } else {
      outcome = RpcError{kMethodNotFound, "method \"" + method.substr(0, 64) + "\" is not supported", {}};
    }
  } catch (const std::exception&) {
    // Handlers should not throw; if one does, the caller learns nothing internal.
    outcome = RpcError{kInternalError, "internal error", {}};
  }
  if (observer_) observer_(method, ctx, outcome);
  if (notification) return nullptr;
  if (auto* err = std::get_if<RpcError>(&outcome)) return ErrorResponse(id, *err);
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(std::get<nlohmann::json>(outcome))}};
}

template <typename Context>
std::optional<typename JsonRpcDispatcher<Context>::Parsed> JsonRpcDispatcher<Context>::Parse(std::string_view body,
                                                                                             std::string* refusal) const {
  if (auto st = CheckJsonBounds(body, {limits_.max_body_bytes, limits_.max_depth}); !st.ok()) {
    *refusal = ErrorResponse(nullptr, {kInvalidRequest, std::string(st.message()), {}}).dump();
    return std::nullopt;
  }
  Parsed out{ParseNotingDuplicates(body), ScanNumberIds(body)};
  if (out.json.doc.is_discarded()) {
    // Perhaps only an id nlohmann cannot hold (1e400): parsed as 0, echoed
    // from the text.
    if (std::optional<std::string> zeroed = ZeroUnreadableIds(body, out.ids)) out.json = ParseNotingDuplicates(*zeroed);
  }
  if (out.json.doc.is_discarded()) {
    *refusal = ErrorResponse(nullptr, {kParseError, "request body is not valid JSON", {}}).dump();
    return std::nullopt;
  }
  if (out.json.doc.is_array() && out.json.doc.empty()) {
    *refusal = ErrorResponse(nullptr, {kInvalidRequest, "empty batch", {}}).dump();
    return std::nullopt;
  }
  if (out.json.doc.is_array() && out.json.doc.size() > limits_.max_batch) {
    *refusal = ErrorResponse(nullptr, {kInvalidRequest, "batch of " + std::to_string(out.json.doc.size()) +
                                                            " calls exceeds the limit of " + std::to_string(limits_.max_batch),
                                       {}})
                   .dump();
    return std::nullopt;
  }
  return out;
}

template <typename Context>
std::string JsonRpcDispatcher<Context>::Answer(const Parsed& parsed, std::string_view body,
                                               const std::function<nlohmann::json(size_t index)>& one) {
  const nlohmann::json& doc = parsed.json.doc;
  const size_t calls = doc.is_array() ? doc.size() : 1;
  std::vector<std::string> answers;
  for (size_t i = 0; i < calls; ++i) {
    const std::optional<JsonTextSpan> raw_id = i < parsed.ids.size() ? parsed.ids[i] : std::nullopt;
    if (raw_id && raw_id->len > kMaxNumberIdChars) {
      answers.push_back(ErrorResponse(nullptr, {kInvalidRequest,
                                                "\"id\" is a number of more than " + std::to_string(kMaxNumberIdChars) +
                                                    " characters; use a shorter id",
                                                {}})
                            .dump());
      continue;
    }
    nlohmann::json r = one(i);
    if (r.is_null()) continue;
    // A number id is written back as the caller wrote it (JSON-RPC 2.0 §5).
    if (raw_id && r.is_object() && r.contains("id") && r["id"].is_number()) {
      answers.push_back(DumpWithRawId(std::move(r), raw_id->In(body)));
    } else {
      answers.push_back(r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
  }
  if (!doc.is_array()) return answers.empty() ? std::string() : std::move(answers.front());
  if (answers.empty()) return std::string();
  std::string out = "[";
  for (size_t i = 0; i < answers.size(); ++i) out += (i ? "," : "") + answers[i];
  return out + "]";
}

template <typename Context>
std::string JsonRpcDispatcher<Context>::Handle(std::string_view body, const Context& ctx) const {
  std::string refusal;
  std::optional<Parsed> parsed = Parse(body, &refusal);
  if (!parsed) return refusal;
  const nlohmann::json& doc = parsed->json.doc;
  std::vector<JsonDuplicateKey>& duplicates = parsed->json.duplicates;
  if (!doc.is_array()) {
    return Answer(*parsed, body, [&](size_t) {
      return HandleOne(doc, ctx, duplicates.empty() ? nullptr : &duplicates.front());
    });
  }
  auto next_duplicate = duplicates.begin();
  return Answer(*parsed, body, [&](size_t i) {
    const JsonDuplicateKey* duplicate = nullptr;
    while (next_duplicate != duplicates.end() && next_duplicate->root_index < i) ++next_duplicate;
    if (next_duplicate != duplicates.end() && next_duplicate->root_index == i) {
      --next_duplicate->depth;  // as seen from the call object
      duplicate = &*next_duplicate++;
    }
    return HandleOne(doc[i], ctx, duplicate);
  });
}

template <typename Context>
std::string JsonRpcDispatcher<Context>::RefuseAll(std::string_view body, const RpcError& error) const {
  std::string refusal;
  std::optional<Parsed> parsed = Parse(body, &refusal);
  if (!parsed) return ErrorResponse(nullptr, error).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const nlohmann::json& doc = parsed->json.doc;
  return Answer(*parsed, body, [&](size_t i) {
    const nlohmann::json& call = doc.is_array() ? doc[i] : doc;
    nlohmann::json id = nullptr;
    if (call.is_object()) {
      auto it = call.find("id");
      if (it != call.end() && (it->is_string() || it->is_number())) id = *it;
    }
    return ErrorResponse(id, error);
  });
}

}  // namespace sigil::server
