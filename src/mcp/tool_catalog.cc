#include "mcp/tool_catalog.h"

namespace sigil::mcp {
namespace {

using nlohmann::json;

json Str(const std::string& description) { return {{"type", "string"}, {"description", description}}; }
json Quantity(const std::string& description) {
  return {{"type", json::array({"string", "integer"})}, {"description", description}};
}
json Object(json properties, json required = json::array(), bool closed = true) {
  json s = {{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) s["required"] = std::move(required);
  if (closed) s["additionalProperties"] = false;
  return s;
}
// A success shape: open (the daemon may add members), with required members.
json Shape(json properties, json required) { return Object(std::move(properties), std::move(required), false); }

json Output(json success) { return {{"type", "object"}, {"anyOf", json::array({std::move(success), RefusalSchema()})}}; }

json Hints(bool read_only, bool destructive, bool idempotent, bool open_world) {
  return {{"readOnlyHint", read_only},
          {"destructiveHint", destructive},
          {"idempotentHint", idempotent},
          {"openWorldHint", open_world}};
}

json TransactionInput() {
  return Object({
      {"from", Str("Sender address (0x + 40 hex), one of list_accounts. May be omitted when the agent has exactly one "
                   "Ethereum account.")},
      {"to", Str("Recipient or contract address (0x + 40 hex). Omit only to deploy a contract.")},
      {"value", Quantity("Amount of ether to send: decimal wei (\"50000000000000000\"), 0x-hex wei, or a number with "
                         "a unit (\"0.05 ether\", \"200 gwei\"). Default 0. Never a floating-point number.")},
      {"data", Str("Call data as 0x-hex (e.g. an ERC-20 transfer). Default empty.")},
      {"chainId", Quantity("Chain id, e.g. 1 or 31337 (decimal or 0x-hex).")},
      {"nonce", Quantity("Account nonce (decimal or 0x-hex).")},
      {"gas", Quantity("Gas limit, e.g. 21000 for a plain transfer.")},
      {"maxFeePerGas", Quantity("EIP-1559 fee cap per gas, e.g. \"30 gwei\".")},
      {"maxPriorityFeePerGas", Quantity("EIP-1559 tip per gas, e.g. \"1 gwei\".")},
      {"gasPrice", Quantity("Legacy gas price (only for type 0 transactions), e.g. \"20 gwei\".")},
      {"type", Quantity("Transaction type: 2 (EIP-1559, default), 1 (EIP-2930) or 0 (legacy).")},
      {"accessList", {{"type", "array"}, {"description", "EIP-2930 access list: [{address, storageKeys}]."}}},
  });
}

json AddressOpt() {
  return Str("Signing address (0x + 40 hex), one of list_accounts. May be omitted when the agent has exactly one "
             "Ethereum account.");
}

json SignatureOutput(const char* who) {
  return Output(Shape({{"signature", Str("65-byte signature r||s||v as 0x-hex")}, {"address", Str(who)}},
                      json::array({"signature"})));
}

std::vector<ToolSpec> Build() {
  std::vector<ToolSpec> tools;

  tools.push_back({"list_accounts", "List accounts",
                   "List the keys this agent may sign with: name, type (secp256k1 for Ethereum, schnorr for Nostr, "
                   "ed25519 for Solana), Ethereum address or public key, and status. Call this first to learn which "
                   "address to use as `from`.",
                   Object(json::object()),
                   Output(Shape({{"accounts",
                                  {{"type", "array"},
                                   {"items", Shape({{"name", Str("key name")},
                                                    {"type", Str("secp256k1 | ed25519 | schnorr")},
                                                    {"address", Str("Ethereum address (secp256k1 keys)")},
                                                    {"public_key", Str("public key, hex")},
                                                    {"status", Str("active | retired | ...")},
                                                    {"version", {{"type", "integer"}, {"description", "key version"}}}},
                                                   json::array())}}},
                                 {"chain_id", Str("the daemon's Ethereum chain id as 0x-hex, when it has one")}},
                                json::array({"accounts"}))),
                   Hints(true, false, true, false)});

  tools.push_back({"get_policy", "Show the signing policy",
                   "Show the policy rules that apply to this agent (what may be signed, limits, budgets, which "
                   "requests need human approval), with a plain-words summary.",
                   Object(json::object()),
                   Output(Shape({{"version", {{"description", "policy version"}}},
                                 {"hash", Str("SHA-256 of the policy document")},
                                 {"rules", {{"type", "array"}, {"description", "the rules that apply to this agent"}}},
                                 {"summary", Str("the rules in plain words")}},
                                json::array({"rules"}))),
                   Hints(true, false, true, false)});

  json budget_item = Shape({{"window", Str("rolling window, e.g. 24h")},
                            {"measure", Str("value (native value sent) | spend (value plus the most the fees can be) | "
                                            "amount (token units) | count (requests)")},
                            {"unit", Str("for value and spend: wei (Ethereum) or lamports (Solana)")},
                            {"limit", Str("decimal")},
                            {"spent", Str("decimal, inside the window")},
                            {"remaining", Str("decimal")}},
                           json::array());
  tools.push_back({"get_budget", "Show remaining budgets",
                   "Show every spending budget that applies to this agent's keys: window, limit, spent and remaining "
                   "(amounts as decimal strings, in each budget's unit: wei or lamports).",
                   Object(json::object()),
                   Output(Shape({{"budgets", {{"type", "array"}, {"items", budget_item}}}}, json::array({"budgets"}))),
                   Hints(true, false, true, false)});

  tools.push_back(
      {"explain", "Dry-run a signing request",
       "Ask what the policy would decide for a signing request without signing anything: allow, deny or "
       "require_approval, the rule that decides, the reason, and every budget it touches with what remains. Use it "
       "before a payment, or after a refusal to find the largest amount that would be allowed "
       "(largest_allowed_value). `tool` is the signing tool to dry-run and `arguments` exactly the arguments you would "
       "give it.",
       Object({{"tool", {{"type", "string"}, {"enum", ExplainableTools()}, {"description", "the signing tool to dry-run"}}},
               {"arguments", {{"type", "object"}, {"description", "the arguments for that tool"}}}},
              json::array({"tool", "arguments"})),
       Output(Shape({{"decision", {{"type", "string"}, {"enum", json::array({"allow", "deny", "require_approval"})}}},
                     {"rule", Str("the rule that decides")},
                     {"reason", Str("why, in words")},
                     {"budgets", {{"type", "array"}, {"items", {{"type", "object"}}}}},
                     {"budget", {{"type", "object"}, {"description", "the first exceeded budget"}}},
                     {"approval", {{"type", "object"}, {"description", "what approval would be needed"}}},
                     {"largest_allowed_value",
                      Str("the most wei the value budgets still allow now (decimal), when the request spends value")},
                     {"largest_allowed_value_text", Str("the same in ether")}},
                    json::array({"decision"}))),
       Hints(true, false, true, false)});

  tools.push_back(
      {"sign_transaction", "Sign an Ethereum transaction",
       "Sign an Ethereum transaction without sending it; returns the raw signed transaction (0x-hex) to broadcast "
       "with eth_sendRawTransaction. Give chainId, nonce, gas and fees (send_transaction fills those in for you). "
       "The policy may allow it, deny it (the result says why and what to do), or hold it for human approval (the "
       "result gives an approval_id for approval_status).",
       TransactionInput(),
       Output(Shape({{"raw_transaction", Str("the signed transaction, 0x-hex")}, {"from", Str("the signing address")}},
                    json::array({"raw_transaction"}))),
       Hints(false, false, false, false)});

  tools.push_back(
      {"send_transaction", "Send an Ethereum transaction",
       "Sign an Ethereum transaction and broadcast it through Sigil's node; nonce, gas and fees are filled in when "
       "omitted. Returns the transaction hash. Moves real funds when allowed. The policy may deny it (the result says "
       "why and what to do) or hold it for human approval (the result gives an approval_id for approval_status).",
       TransactionInput(),
       Output(Shape({{"tx_hash", Str("the transaction hash, 0x-hex")}, {"from", Str("the sending address")}},
                    json::array({"tx_hash"}))),
       Hints(false, true, false, true)});

  tools.push_back({"sign_message", "Sign a message (EIP-191)",
                   "Sign a message with an Ethereum key using personal_sign (EIP-191 prefix), e.g. for a login "
                   "challenge. The message is UTF-8 text unless encoding is \"hex\".",
                   Object({{"message", Str("the message")},
                           {"encoding", {{"type", "string"}, {"enum", json::array({"text", "hex"})}, {"description", "text (default) or hex (0x-prefixed bytes)"}}},
                           {"address", AddressOpt()}},
                          json::array({"message"})),
                   SignatureOutput("the signing address"), Hints(false, false, true, false)});

  tools.push_back({"sign_typed_data", "Sign EIP-712 typed data",
                   "Sign EIP-712 typed data (eth_signTypedData_v4), e.g. an order or a permit. The policy checks the "
                   "domain (chain id, verifying contract) and recognises permits and unlimited approvals.",
                   Object({{"typed_data",
                            {{"type", json::array({"object", "string"})},
                             {"description", "the EIP-712 document {types, primaryType, domain, message}, as an object or JSON text"}}},
                           {"address", AddressOpt()}},
                          json::array({"typed_data"})),
                   SignatureOutput("the signing address"), Hints(false, false, true, false)});

  tools.push_back(
      {"sign_nostr_event", "Sign a Nostr event",
       "Sign a Nostr event (NIP-01) with a schnorr key; returns the complete event with id, pubkey and sig, ready to "
       "publish to relays.",
       Object({{"key", Str("key name or public key; may be omitted when the agent has exactly one Nostr key")},
               {"kind", {{"type", "integer"}, {"minimum", 0}, {"description", "event kind, e.g. 1 for a text note"}}},
               {"content", Str("event content")},
               {"tags", {{"type", "array"}, {"items", {{"type", "array"}, {"items", {{"type", "string"}}}}}, {"description", "tags, e.g. [[\"t\",\"sigil\"]]"}}},
               {"created_at", {{"type", "integer"}, {"minimum", 0}, {"description", "unix seconds; default now"}}}},
              json::array({"kind", "content"})),
       Output(Shape({{"event",
                      Shape({{"id", Str("event id, 32-byte hex")},
                             {"pubkey", Str("x-only public key, hex")},
                             {"created_at", {{"type", "integer"}}},
                             {"kind", {{"type", "integer"}}},
                             {"tags", {{"type", "array"}, {"items", {{"type", "array"}, {"items", {{"type", "string"}}}}}}},
                             {"content", {{"type", "string"}}},
                             {"sig", Str("schnorr signature, 64-byte hex")}},
                            json::array({"id", "pubkey", "created_at", "kind", "tags", "content", "sig"}))}},
                    json::array({"event"}))),
       Hints(false, false, true, false)});

  tools.push_back(
      {"sign_solana_transaction", "Sign a Solana transaction",
       "Sign a Solana transaction message with an ed25519 key; returns the base58 signature to place in the "
       "transaction. `message` is the base64 of the transaction's message bytes (what its signatures sign, e.g. "
       "Transaction.serializeMessage() in @solana/web3.js).",
       Object({{"key", Str("key name or public key; may be omitted when the agent has exactly one ed25519 key")},
               {"message", {{"type", "string"}, {"minLength", 1}, {"description", "base64 of the message bytes"}}}},
              json::array({"message"})),
       Output(Shape({{"signature", Str("ed25519 signature, base58")}, {"key", Str("the key that signed")}},
                    json::array({"signature"}))),
       Hints(false, false, true, false)});

  tools.push_back(
      {"approval_status", "Check a held request",
       "Check a request that was held for human approval. While pending, call again later. Once approved, the first "
       "call by the requesting agent returns the result of the original request (the signed transaction, signature "
       "or transaction hash) exactly once.",
       Object({{"approval_id", {{"type", "string"}, {"minLength", 1}, {"description", "the id a held request returned, ap_…"}}}},
              json::array({"approval_id"})),
       Output(Shape({{"approval_id", Str("the approval id")},
                     {"state", Str("pending | approved | rejected | expired | consumed")},
                     {"quorum", {{"description", "approvals needed"}}},
                     {"approvals", {{"description", "approvals so far"}}},
                     {"expires_at", {{"description", "when the hold lapses"}}},
                     {"result", {{"description", "once approved: the original request's result"}}}},
                    json::array({"approval_id", "state"}))),
       Hints(true, false, false, false)});

  return tools;
}

}  // namespace

nlohmann::json ToolSpec::ToJson() const {
  return {{"name", name},
          {"title", title},
          {"description", description},
          {"inputSchema", input_schema},
          {"outputSchema", output_schema},
          {"annotations", annotations}};
}

const nlohmann::json& RefusalSchema() {
  static const json* schema = new json(Shape(
      {{"code", {{"type", "integer"},
                 {"description", "-32001 not authorized, -32002 held for approval, -32003 denied by policy, -32004 "
                                 "lockdown, -32005 rate limited, -32006 unavailable, -32602 invalid arguments"}}},
       {"message", Str("what happened")},
       {"decision", {{"description", "deny | require_approval"}}},
       {"rule", {{"description", "the rule that decided"}}},
       {"reason", {{"description", "why, in words"}}},
       {"budget", {{"description", "the exceeded budget"}}},
       {"budgets", {{"description", "every budget the request touches"}}},
       {"approval_id", {{"description", "for -32002: pass to approval_status"}}},
       {"expires_at", {{"description", "for -32002: when the hold lapses"}}},
       {"quorum", {{"description", "for -32002: approvals needed"}}},
       {"approvals", {{"description", "for -32002: approvals so far"}}},
       {"retry_after_ms", {{"description", "for -32005: wait this long"}}},
       {"audit_seq", {{"description", "audit log sequence number of the refusal"}}}},
      json::array({"code", "message"})));
  return *schema;
}

const std::vector<std::string>& ExplainableTools() {
  static const auto* names = new std::vector<std::string>{
      "send_transaction", "sign_transaction", "sign_message", "sign_typed_data", "sign_nostr_event",
      "sign_solana_transaction"};
  return *names;
}

const std::vector<ToolSpec>& SigilTools() {
  static const auto* tools = new std::vector<ToolSpec>(Build());
  return *tools;
}

const ToolSpec* FindTool(std::string_view name) {
  for (const ToolSpec& t : SigilTools()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace sigil::mcp
