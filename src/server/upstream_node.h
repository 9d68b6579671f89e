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

#include <atomic>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "chains/ethereum/transaction_request.h"
#include "nlohmann/json.hpp"
#include "server/json_rpc.h"

namespace sigil::server {

class UpstreamNode {
 public:
  // The largest answer taken from the node (a wide eth_getLogs or a full
  // block can run to megabytes); a larger one is refused with -32000, not
  // -32006: the node was reached.
  static constexpr size_t kMaxAnswerBytes = 32 << 20;
  // And for all the answers of one HTTP request together (a batch of 100
  // wide eth_getLogs would otherwise hold 100 answers at once).
  static constexpr size_t kMaxRequestAnswerBytes = 64 << 20;

  explicit UpstreamNode(std::string url) : url_(std::move(url)) {}
  bool configured() const { return !url_.empty(); }
  const std::string& url() const { return url_; }

  // Forwards one call and returns the node's result, or its error with code,
  // message and data as the node gave them, except that a code Sigil itself
  // defines (-32001..-32006, INTERFACE.md) becomes -32000 with the node's
  // code in data.upstream_code: a node's "-32004" is not a lockdown. An
  // answer over kMaxAnswerBytes is -32000 with data.reason "answer_too_large".
  // `max_answer_bytes` (at most kMaxAnswerBytes) bounds this answer;
  // `answer_bytes`, if given, receives its size.
  RpcOutcome Forward(const std::string& method, const nlohmann::json& params, size_t max_answer_bytes = kMaxAnswerBytes,
                     size_t* answer_bytes = nullptr) const;
  // The result, or: Unavailable when the node cannot be reached or answers
  // garbage; FailedPrecondition when it answered with an error (for example
  // eth_estimateGas on a call that reverts), the error carried along for
  // UpstreamError().
  absl::StatusOr<nlohmann::json> Call(const std::string& method, const nlohmann::json& params) const;
  // The node's own error behind a status from Call() or Fill(), if any.
  static std::optional<RpcError> UpstreamError(const absl::Status& status);

  // The node's chain id (asked once, then remembered).
  absl::StatusOr<uint64_t> ChainId() const;
  // OK if `chain_id` is the node's; else InvalidArgument naming the field
  // 'chainId', followed by `consequence` (what that means for the caller).
  absl::Status CheckChain(uint64_t chain_id, const std::string& consequence) const;

  // Fills nonce (pending count), chain id, gas limit (eth_estimateGas, with
  // the request's access list) and fees (EIP-1559: maxPriorityFeePerGas,
  // at most a given maxFeePerGas, and 2*baseFee + tip; legacy: eth_gasPrice)
  // where the request leaves them out. A request whose chainId is not the
  // node's is refused (InvalidArgument) when anything would be filled: the
  // node's nonce and fees mean nothing on another chain.
  absl::Status Fill(eth::TransactionRequest& request) const;

 private:
  std::string url_;
  mutable std::atomic<uint64_t> chain_id_{0};  // 0: not asked yet
};

}  // namespace sigil::server
