#include "server/upstream_node.h"

#include <algorithm>
#include <atomic>
#include <climits>

#include "absl/strings/cord.h"

#include "base/json_bounds.h"
#include "base/status.h"
#include "net/http_client.h"

namespace sigil::server {
namespace {

absl::StatusOr<Uint256> Quantity(const nlohmann::json& v, const std::string& what) {
  if (!v.is_string()) return absl::UnavailableError("upstream node returned a non-string " + what);
  auto q = Uint256::ParseHex(v.get<std::string>());
  if (!q.ok()) return absl::UnavailableError("upstream node returned an invalid " + what);
  return *q;
}

}  // namespace

constexpr char kUpstreamErrorPayload[] = "sigil.upstream_error";

absl::StatusOr<nlohmann::json> UpstreamNode::Call(const std::string& method, const nlohmann::json& params) const {
  RpcOutcome out = Forward(method, params);
  if (auto* err = std::get_if<RpcError>(&out)) {
    if (err->code == kUnavailable) return absl::UnavailableError("upstream " + method + " failed: " + err->message);
    absl::Status st = absl::FailedPreconditionError("upstream " + method + " failed: " + err->message);
    nlohmann::json carried = {{"code", err->code}, {"message", err->message}, {"data", err->data}};
    st.SetPayload(kUpstreamErrorPayload, absl::Cord(carried.dump()));
    return st;
  }
  return std::get<nlohmann::json>(out);
}

std::optional<RpcError> UpstreamNode::UpstreamError(const absl::Status& status) {
  auto payload = status.GetPayload(kUpstreamErrorPayload);
  if (!payload) return std::nullopt;
  auto carried = nlohmann::json::parse(std::string(*payload), nullptr, false);
  if (!carried.is_object()) return std::nullopt;
  return RpcError{carried.value("code", static_cast<int>(kInternalError)), std::string(status.message()), carried["data"]};
}

absl::StatusOr<uint64_t> UpstreamNode::ChainId() const {
  if (uint64_t known = chain_id_.load(std::memory_order_relaxed); known != 0) return known;
  ASSIGN_OR_RETURN(auto v, Call("eth_chainId", nlohmann::json::array()));
  ASSIGN_OR_RETURN(auto id, Quantity(v, "chain id"));
  if (!id.FitsUint64() || id.IsZero()) return absl::UnavailableError("upstream node returned an unusable chain id");
  chain_id_.store(id.Low64(), std::memory_order_relaxed);
  return id.Low64();
}

RpcOutcome UpstreamNode::Forward(const std::string& method, const nlohmann::json& params, size_t max_answer_bytes,
                                 size_t* answer_bytes) const {
  max_answer_bytes = std::min(max_answer_bytes, kMaxAnswerBytes);
  if (url_.empty()) {
    return RpcError{kMethodNotFound, "method \"" + method.substr(0, 64) + "\" needs an upstream node; none is configured (--upstream URL)", {}};
  }
  auto too_large = [&] {
    return RpcError{kUpstreamError,
                    "the upstream node's answer to " + method.substr(0, 64) + " is larger than " +
                        std::to_string(max_answer_bytes) + " bytes (at most " + std::to_string(kMaxAnswerBytes >> 20) +
                        " MiB per answer, " + std::to_string(kMaxRequestAnswerBytes >> 20) +
                        " MiB per request); ask for less (e.g. a narrower block range, fewer calls per batch)",
                    {{"reason", "answer_too_large"}, {"limit_bytes", max_answer_bytes}}};
  };
  // Nothing left of the request's share: the node is not asked at all.
  if (max_answer_bytes == 0) return too_large();
  static std::atomic<uint64_t> next_id{1};
  net::HttpClientOptions options;
  options.service_name = "upstream Ethereum node";
  options.max_response_body_bytes = max_answer_bytes;
  auto client = net::HttpClient::Create(url_, options);
  if (!client.ok()) return RpcError{kUnavailable, "upstream node: " + std::string(client.status().message()), {}};
  nlohmann::json call = {{"jsonrpc", "2.0"}, {"id", next_id++}, {"method", method}, {"params", params}};
  auto response = (*client)->Post("", call.dump());
  if (!response.ok() && absl::IsResourceExhausted(response.status())) return too_large();
  if (!response.ok()) return RpcError{kUnavailable, std::string(response.status().message()), {}};
  if (answer_bytes != nullptr) *answer_bytes = response->body.size();
  // A node's answer is outside input too: nested deeper than any real answer,
  // copying it (the result is) would recurse past the stack.
  if (!CheckJsonBounds(response->body, {max_answer_bytes, 64}).ok()) {
    return RpcError{kUnavailable, "upstream node answered with JSON nested deeper than 64 levels", {}};
  }
  auto doc = nlohmann::json::parse(response->body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return RpcError{kUnavailable, "upstream node answered HTTP " + std::to_string(response->status) + " without JSON-RPC", {}};
  }
  if (auto e = doc.find("error"); e != doc.end() && !e->is_null()) {
    RpcError err;
    const nlohmann::json* code = e->is_object() ? &(*e)["code"] : nullptr;
    err.code = code != nullptr && code->is_number_integer() && code->get<int64_t>() >= INT32_MIN &&
                       code->get<int64_t>() <= INT32_MAX
                   ? code->get<int>()
                   : kInternalError;
    err.message = e->is_object() && (*e)["message"].is_string() ? (*e)["message"].get<std::string>() : "upstream error";
    if (e->is_object() && e->contains("data")) err.data = (*e)["data"];
    if (err.code >= kUnavailable && err.code <= kUnauthenticated) {
      // Sigil's own codes mean Sigil's refusals; the node's are passed on
      // under the generic server-error code.
      err.data = {{"upstream_code", err.code}, {"upstream_data", err.data}};
      err.code = kUpstreamError;
    }
    return err;
  }
  if (!doc.contains("result")) return RpcError{kUnavailable, "upstream node answered without a result", {}};
  return doc["result"];
}

absl::Status UpstreamNode::CheckChain(uint64_t chain_id, const std::string& consequence) const {
  ASSIGN_OR_RETURN(uint64_t node_chain, ChainId());
  if (chain_id == node_chain) return absl::OkStatus();
  return absl::InvalidArgumentError("field 'chainId': " + std::to_string(chain_id) + " is not the upstream node's chain (" +
                                    std::to_string(node_chain) + "); " + consequence);
}

absl::Status UpstreamNode::Fill(eth::TransactionRequest& r) const {
  bool complete = r.nonce && r.gas_limit && r.chain_id &&
                  ((r.max_fee_per_gas && r.max_priority_fee_per_gas) || r.gas_price);
  if (complete) return absl::OkStatus();
  if (!configured()) {
    std::string missing = !r.nonce ? "nonce" : !r.gas_limit ? "gas" : !r.chain_id ? "chainId" : "maxFeePerGas/gasPrice";
    return absl::InvalidArgumentError("field '" + missing + "' is required (no upstream node is configured to fill it)");
  }
  if (!r.from) return absl::InvalidArgumentError("field 'from' is required");
  const std::string from = r.from->ToChecksumHex();
  if (!r.chain_id) {
    ASSIGN_OR_RETURN(r.chain_id, ChainId());
  }
  RETURN_IF_ERROR(CheckChain(*r.chain_id, "its nonce, gas and fees cannot be filled from that node: give them explicitly"));
  if (!r.nonce) {
    ASSIGN_OR_RETURN(auto v, Call("eth_getTransactionCount", nlohmann::json::array({from, "pending"})));
    ASSIGN_OR_RETURN(auto n, Quantity(v, "nonce"));
    if (!n.FitsUint64()) return absl::UnavailableError("upstream nonce does not fit 64 bits");
    r.nonce = n.Low64();
  }
  eth::TxType type = r.InferType();
  bool dynamic = type == eth::TxType::kDynamicFee || (!r.type && !r.gas_price);
  if (dynamic && (!r.max_fee_per_gas || !r.max_priority_fee_per_gas)) {
    ASSIGN_OR_RETURN(auto block, Call("eth_getBlockByNumber", nlohmann::json::array({"latest", false})));
    if (!block.is_object() || !block.contains("baseFeePerGas")) {
      dynamic = false;  // pre-London chain: legacy pricing
    } else {
      ASSIGN_OR_RETURN(auto base, Quantity(block["baseFeePerGas"], "base fee"));
      if (!r.max_priority_fee_per_gas) {
        auto tip = Call("eth_maxPriorityFeePerGas", nlohmann::json::array());
        Uint256 t(1000000000);  // 1 gwei when the node has no opinion
        if (tip.ok()) {
          auto q = Quantity(*tip, "priority fee");
          if (q.ok()) t = *q;
        }
        // A tip above the caller's own fee cap would make the transaction invalid.
        if (r.max_fee_per_gas && *r.max_fee_per_gas < t) t = *r.max_fee_per_gas;
        r.max_priority_fee_per_gas = t;
      }
      if (!r.max_fee_per_gas) {
        ASSIGN_OR_RETURN(auto twice, base.Mul(Uint256(2)));
        ASSIGN_OR_RETURN(auto fee, twice.Add(*r.max_priority_fee_per_gas));
        r.max_fee_per_gas = fee;
      }
    }
  }
  if (!dynamic && !r.gas_price) {
    ASSIGN_OR_RETURN(auto v, Call("eth_gasPrice", nlohmann::json::array()));
    ASSIGN_OR_RETURN(auto gp, Quantity(v, "gas price"));
    r.gas_price = gp;
  }
  if (!r.gas_limit) {
    nlohmann::json est = {{"from", from}};
    if (r.to) est["to"] = r.to->ToChecksumHex();
    if (r.value) est["value"] = r.value->ToHexQuantity();
    if (r.data && !r.data->empty()) est["data"] = HexEncode0x(*r.data);
    // An access list costs intrinsic gas: an estimate without it is too low.
    if (r.access_list && !r.access_list->empty()) est["accessList"] = eth::AccessListToJson(*r.access_list);
    ASSIGN_OR_RETURN(auto v, Call("eth_estimateGas", nlohmann::json::array({est})));
    ASSIGN_OR_RETURN(auto g, Quantity(v, "gas estimate"));
    if (!g.FitsUint64()) return absl::UnavailableError("upstream gas estimate does not fit 64 bits");
    r.gas_limit = g.Low64();
  }
  return absl::OkStatus();
}

}  // namespace sigil::server
