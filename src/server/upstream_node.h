// UpstreamNode: the Ethereum node Sigil forwards to (eth_sendRawTransaction,
// and every eth_*/net_*/web3_* method it does not answer itself), and asks to
// fill a transaction's missing nonce, gas and fees.
//
// Everything the node says is untrusted input: responses are size-bounded by
// the HTTP client, parsed defensively, and the fields Sigil uses are
// validated before they reach a transaction. Filling fields never bypasses
// policy: the core decides on the completed transaction.
//
// Thread-safety: thread-safe (a client per call).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "chains/ethereum/transaction_request.h"
#include "nlohmann/json.hpp"
#include "server/json_rpc.h"

namespace sigil::server {

class UpstreamNode {
 public:
  explicit UpstreamNode(std::string url) : url_(std::move(url)) {}
  bool configured() const { return !url_.empty(); }
  const std::string& url() const { return url_; }

  // Forwards one call and returns the node's result or error as is.
  RpcOutcome Forward(const std::string& method, const nlohmann::json& params) const;
  // Unavailable when the node cannot be reached or answers an error.
  absl::StatusOr<nlohmann::json> Call(const std::string& method, const nlohmann::json& params) const;

  // Fills nonce (pending count), chain id, gas limit (eth_estimateGas) and
  // fees (EIP-1559: maxPriorityFeePerGas and 2*baseFee + tip; legacy:
  // eth_gasPrice) where the request leaves them out.
  absl::Status Fill(eth::TransactionRequest& request) const;

 private:
  std::string url_;
};

}  // namespace sigil::server
