// Template implementation of JsonRpcDispatcher; include json_rpc.h instead.
#pragma once

#include "base/json_bounds.h"

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
std::string JsonRpcDispatcher<Context>::Handle(std::string_view body, const Context& ctx) const {
  if (auto st = CheckJsonBounds(body, {limits_.max_body_bytes, limits_.max_depth}); !st.ok()) {
    return ErrorResponse(nullptr, {kInvalidRequest, std::string(st.message()), {}}).dump();
  }
  JsonParsed<nlohmann::json> parsed = ParseNotingDuplicates(body);
  const nlohmann::json& doc = parsed.doc;
  if (doc.is_discarded()) return ErrorResponse(nullptr, {kParseError, "request body is not valid JSON", {}}).dump();
  std::vector<JsonDuplicateKey>& duplicates = parsed.duplicates;
  if (!doc.is_array()) {
    nlohmann::json response = HandleOne(doc, ctx, duplicates.empty() ? nullptr : &duplicates.front());
    return response.is_null() ? std::string() : response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  if (doc.empty()) return ErrorResponse(nullptr, {kInvalidRequest, "empty batch", {}}).dump();
  if (doc.size() > limits_.max_batch) {
    return ErrorResponse(nullptr, {kInvalidRequest, "batch of " + std::to_string(doc.size()) +
                                                        " calls exceeds the limit of " + std::to_string(limits_.max_batch),
                                   {}})
        .dump();
  }
  nlohmann::json responses = nlohmann::json::array();
  auto next_duplicate = duplicates.begin();
  for (size_t i = 0; i < doc.size(); ++i) {
    const JsonDuplicateKey* duplicate = nullptr;
    if (next_duplicate != duplicates.end() && next_duplicate->root_index == i) {
      --next_duplicate->depth;  // as seen from the call object
      duplicate = &*next_duplicate++;
    }
    nlohmann::json r = HandleOne(doc[i], ctx, duplicate);
    if (!r.is_null()) responses.push_back(std::move(r));
  }
  if (responses.empty()) return std::string();
  return responses.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace sigil::server
