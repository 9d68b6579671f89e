#include "server/upstream_node.h"

#include <atomic>

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

absl::StatusOr<nlohmann::json> UpstreamNode::Call(const std::string& method, const nlohmann::json& params) const {
  RpcOutcome out = Forward(method, params);
  if (auto* err = std::get_if<RpcError>(&out)) {
    return absl::UnavailableError("upstream " + method + " failed: " + err->message);
  }
  return std::get<nlohmann::json>(out);
}

RpcOutcome UpstreamNode::Forward(const std::string& method, const nlohmann::json& params) const {
  if (url_.empty()) {
    return RpcError{kMethodNotFound, "method \"" + method.substr(0, 64) + "\" needs an upstream node; none is configured (--upstream URL)", {}};
  }
  static std::atomic<uint64_t> next_id{1};
  net::HttpClientOptions options;
  options.service_name = "upstream Ethereum node";
  auto client = net::HttpClient::Create(url_, options);
  if (!client.ok()) return RpcError{kUnavailable, "upstream node: " + std::string(client.status().message()), {}};
  nlohmann::json call = {{"jsonrpc", "2.0"}, {"id", next_id++}, {"method", method}, {"params", params}};
  auto response = (*client)->Post("", call.dump());
  if (!response.ok()) return RpcError{kUnavailable, std::string(response.status().message()), {}};
  auto doc = nlohmann::json::parse(response->body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return RpcError{kUnavailable, "upstream node answered HTTP " + std::to_string(response->status) + " without JSON-RPC", {}};
  }
  if (auto e = doc.find("error"); e != doc.end() && !e->is_null()) {
    RpcError err;
    err.code = e->is_object() && (*e)["code"].is_number_integer() ? (*e)["code"].get<int>() : kInternalError;
    err.message = e->is_object() && (*e)["message"].is_string() ? (*e)["message"].get<std::string>() : "upstream error";
    if (e->is_object() && e->contains("data")) err.data = (*e)["data"];
    return err;
  }
  if (!doc.contains("result")) return RpcError{kUnavailable, "upstream node answered without a result", {}};
  return doc["result"];
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
    ASSIGN_OR_RETURN(auto v, Call("eth_chainId", nlohmann::json::array()));
    ASSIGN_OR_RETURN(auto id, Quantity(v, "chain id"));
    if (!id.FitsUint64()) return absl::UnavailableError("upstream chain id does not fit 64 bits");
    r.chain_id = id.Low64();
  }
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
    ASSIGN_OR_RETURN(auto v, Call("eth_estimateGas", nlohmann::json::array({est})));
    ASSIGN_OR_RETURN(auto g, Quantity(v, "gas estimate"));
    if (!g.FitsUint64()) return absl::UnavailableError("upstream gas estimate does not fit 64 bits");
    r.gas_limit = g.Low64();
  }
  return absl::OkStatus();
}

}  // namespace sigil::server
