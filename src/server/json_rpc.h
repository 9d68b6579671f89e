// JsonRpcDispatcher: JSON-RPC 2.0 over a request body (single calls and
// batches), independent of transport.
//
// Contract:
//  * Bodies are bounded (size, depth, batch length) before parsing; anything
//    malformed gets a JSON-RPC error, never an exception out of Handle().
//  * A missing `params` and a null `params` mean the same (empty array).
//  * A member name repeated in one object of the body (which a JSON parser
//    resolves silently, last one wins) refuses that call: -32600 in the call
//    object itself, -32602 (data.field = the name) inside its params.
//  * An `id` may be a string, a number or null (JSON-RPC 2.0 §4). The answer
//    carries the same id: a number id is written back exactly as sent (its
//    text, up to kMaxNumberIdChars; longer is -32600), whether or not it
//    fits 64 bits or a double (server/json_rpc_ids.h).
//  * Notifications (no `id`) get no response; a batch of only notifications
//    yields an empty body.
//  * Method handlers return RpcOutcome: a result or an RpcError with a stable
//    code (INTERFACE.md's table) and an optional `data` object.
// Thread-safety: Register/SetFallback before serving; Handle is thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/json_duplicates.h"
#include "base/json_rpc_codes.h"
#include "nlohmann/json.hpp"
#include "server/json_rpc_ids.h"

namespace sigil::server {

// The error codes (INTERFACE.md): base/json_rpc_codes.h.
using enum JsonRpcCode;

struct RpcError {
  int code = kInternalError;
  std::string message;
  nlohmann::json data;  // null when absent
};

using RpcOutcome = std::variant<nlohmann::json, RpcError>;

struct RpcLimits {
  size_t max_body_bytes = 1 << 20;
  size_t max_depth = 64;
  size_t max_batch = 100;
};

template <typename Context>
class JsonRpcDispatcher {
 public:
  using Method = std::function<RpcOutcome(const std::string& method, const nlohmann::json& params, const Context&)>;

  explicit JsonRpcDispatcher(RpcLimits limits = {}) : limits_(limits) {}

  void Register(const std::string& name, Method method) { methods_[name] = std::move(method); }
  // Called for methods not registered; absent → -32601.
  void SetFallback(Method method) { fallback_ = std::move(method); }
  // Called before every well-formed call; an error refuses that call (e.g.
  // a rate limit) without running it.
  using Gate = std::function<std::optional<RpcError>(const std::string& method, const Context&)>;
  void SetGate(Gate gate) { gate_ = std::move(gate); }
  // Called after every well-formed call with its outcome (e.g. for the
  // access log).
  using Observer = std::function<void(const std::string& method, const Context&, const RpcOutcome&)>;
  void SetObserver(Observer observer) { observer_ = std::move(observer); }
  bool Has(const std::string& name) const { return methods_.contains(name); }

  // Returns the response body; empty when nothing is to be sent back.
  std::string Handle(std::string_view body, const Context& ctx) const;
  // One already-parsed call object; returns the response object or null for
  // a notification. `duplicate`: a name the call's text repeats, with depth
  // 1 for the call object itself; the call is refused.
  nlohmann::json HandleOne(const nlohmann::json& call, const Context& ctx,
                           const JsonDuplicateKey* duplicate = nullptr) const;

  static nlohmann::json ErrorResponse(const nlohmann::json& id, const RpcError& error);

  // Every call of `body` answered with `error`, without running any (a
  // request without a valid token): one answer per call of a batch, each
  // with the call's id; id null when the body is not JSON-RPC.
  std::string RefuseAll(std::string_view body, const RpcError& error) const;

 private:
  // A body within the limits, parsed, with the text of its number ids.
  struct Parsed {
    JsonParsed<nlohmann::json> json;
    std::vector<std::optional<JsonTextSpan>> ids;  // server/json_rpc_ids.h
  };
  // nullopt with `refusal` set to the whole answer when the body is not
  // JSON, too large or deep, an empty or too long batch.
  std::optional<Parsed> Parse(std::string_view body, std::string* refusal) const;
  // The answers `one` gives for each call (by index), as the response body;
  // number ids written as sent; "" when there is nothing to send.
  static std::string Answer(const Parsed& parsed, std::string_view body,
                            const std::function<nlohmann::json(size_t index)>& one);

  RpcLimits limits_;
  absl::flat_hash_map<std::string, Method> methods_;
  Method fallback_;
  Gate gate_;
  Observer observer_;
};

}  // namespace sigil::server

#include "server/json_rpc_impl.h"
