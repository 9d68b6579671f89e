// ToolRunner: carries out one tools/call by calling Sigil's JSON-RPC methods.
//
//   list_accounts           sigil_listKeys []            (eth_accounts [] if the daemon lacks it) + eth_chainId []
//   get_policy              sigil_getPolicy []
//   get_budget              sigil_getBudget []
//   explain                 sigil_explain [method, ...params of the tool it dry-runs]
//   sign_transaction        eth_signTransaction [tx]
//   send_transaction        eth_sendTransaction [tx]
//   sign_message            personal_sign [0x-hex message, address]
//   sign_typed_data         eth_signTypedData_v4 [address, typed data]
//   sign_nostr_event        sigil_signNostrEvent [key, {created_at, kind, tags, content}]
//   sign_solana_transaction sigil_signSolanaMessage [key, base64 message]
//   approval_status         sigil_approvalStatus [approval_id]
// When `from`/`address`/`key` is omitted and the agent has exactly one
// suitable key, it is looked up (eth_accounts / sigil_listKeys) and used.
//
// Results: a success carries structuredContent matching the tool's
// outputSchema (checked before returning; a daemon answer of another shape
// becomes an error result, code -32603, instead). A refusal or bad argument
// is a result with isError=true, a sentence saying what happened and what to
// do next (agent_text.h), and structuredContent = the refusal data + code +
// message. Nothing here decides policy: the daemon does.
//
// Thread-safety: a ToolRunner is used by one thread at a time; the RpcCaller
// and Clock it borrows must outlive it.
#pragma once

#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "mcp/rpc_caller.h"
#include "mcp/tool_catalog.h"

namespace sigil::mcp {

struct ToolResult {
  bool is_error = false;
  std::string text;           // content[0].text
  nlohmann::json structured;  // structuredContent (an object)

  // {"content":[{"type":"text","text":…}],"structuredContent":…,"isError":…}
  nlohmann::json ToJson() const;
};

class ToolRunner {
 public:
  ToolRunner(const RpcCaller& rpc, const Clock& clock) : rpc_(rpc), clock_(clock) {}

  // `arguments` null means {}. The tool must come from SigilTools().
  ToolResult Call(const ToolSpec& tool, const nlohmann::json& arguments);

  struct RpcCall {
    std::string method;
    nlohmann::json params;  // positional array
  };
  // The JSON-RPC call a signing tool makes for `arguments` (already checked
  // against its inputSchema), resolving an omitted address or key. An
  // RpcError for bad arguments (-32602) or a failed lookup.
  std::variant<RpcCall, RpcError> BuildSigningCall(const std::string& tool, const nlohmann::json& arguments);

 private:
  ToolResult Run(const ToolSpec& tool, const nlohmann::json& args);
  ToolResult Refused(const RpcError& error);
  ToolResult ListAccounts();
  ToolResult Explain(const nlohmann::json& args);
  ToolResult Sign(const std::string& tool, const nlohmann::json& args);
  ToolResult ApprovalStatus(const nlohmann::json& args);

  std::variant<std::string, RpcError> DefaultAddress();
  std::variant<std::string, RpcError> DefaultKey(const std::string& tool);
  std::variant<nlohmann::json, RpcError> Transaction(const nlohmann::json& args);

  const RpcCaller& rpc_;
  const Clock& clock_;
};

}  // namespace sigil::mcp
