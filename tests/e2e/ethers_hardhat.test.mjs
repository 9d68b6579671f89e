// End to end with real clients: a hardhat node (offline), ethers v6 and viem
// pointed at Sigil. What Sigil signs must be mined by a real EVM.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { ethers } from "ethers";
import { createWalletClient, http, parseEther, verifyTypedData, recoverTransactionAddress } from "viem";
import { SIGIL_BIN } from "./lib/harness.mjs";
import { startFundedSigil } from "./lib/funded_sigil.mjs";
import { secretFromUri, totp } from "./lib/totp.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;
let node, sigil, nodeProvider, agentToken, approvers = [], trader;
const TREASURY = "0x1111111111111111111111111111111111111111";

const POLICY = {
  version: 1,
  lists: { blocked: ["0x000000000000000000000000000000000000dEaD"] },
  rules: [
    { id: "no-blocked", effect: "deny", match: { kind: "eth_tx", to: { in: "@blocked" } }, reason: "recipient is blocked" },
    { id: "small-payments", effect: "allow", keys: ["trader"], agents: ["bot-1"],
      match: { kind: "eth_tx", chain_id: [31337], value: { lte: "0.5 ether" }, max_fee_per_gas: { lte: "200 gwei" } },
      budgets: [{ window: "24h", max_value: "1 ether", on_exceed: "deny" }] },
    { id: "large-needs-two", effect: "require_approval",
      match: { kind: "eth_tx", value: { gt: "0.5 ether" } },
      approval: { quorum: 2, role: "approver", second_factor: "totp", expires: "1h" } },
    { id: "typed", effect: "allow", match: { kind: "eth_typed_data", domain: { chain_id: 31337 } } },
  ],
};

function agentProvider() {
  const req = new ethers.FetchRequest(sigil.url + "/rpc");
  req.setHeader("Authorization", `Bearer ${agentToken}`);
  return new ethers.JsonRpcProvider(req, 31337, { staticNetwork: true, batchMaxCount: 1 });
}

before(async () => {
  if (skip) return;
  ({ node, sigil, nodeProvider, address: trader, agentToken } = await startFundedSigil({ policy: POLICY }));
  for (const name of ["alice", "bob"]) {
    const t = sigil.cli(["token", "create", "--role", "approver", "--name", name, "--json"]);
    assert.equal(t.code, 0, t.stderr);
    const enrol = await sigil.rest("POST", `/v1/tokens/${name}/totp`, {});
    assert.equal(enrol.status, 200, enrol.text);
    approvers.push({ name, token: t.json.token, secret: secretFromUri(enrol.json.otpauth_uri) });
  }
});

after(async () => {
  if (nodeProvider) nodeProvider.destroy();
  if (sigil) await sigil.stop();
  if (node) await node.stop();
});

test("ethers JsonRpcProvider + getSigner sends an EIP-1559 transfer that hardhat mines", { skip }, async () => {
  const provider = agentProvider();
  const signer = await provider.getSigner();
  assert.equal(await signer.getAddress(), trader);
  const tx = await signer.sendTransaction({ to: TREASURY, value: ethers.parseEther("0.4") });
  const receipt = await tx.wait();
  assert.equal(receipt.status, 1);
  assert.equal(receipt.from, trader);
  const mined = await provider.getTransaction(receipt.hash);
  assert.equal(mined.type, 2);
});

test("an over-budget transfer is refused with -32003 and its reason", { skip }, async () => {
  const provider = agentProvider();
  const signer = await provider.getSigner();
  const ok = await signer.sendTransaction({ to: TREASURY, value: ethers.parseEther("0.5") });
  await ok.wait();
  await assert.rejects(signer.sendTransaction({ to: TREASURY, value: ethers.parseEther("0.3") }), (err) => {
    const e = err.error || err.info?.error || err;
    assert.equal(e.code, -32003, JSON.stringify(err));
    assert.equal(e.data.rule, "small-payments");
    assert.match(e.data.reason, /24h budget exceeded/);
    assert.equal(e.data.budget.window, "24h");
    return true;
  });
});

test("a blocked recipient is denied whatever the amount", { skip }, async () => {
  const r = await sigil.rpc("eth_signTransaction", [{ from: trader, to: "0x000000000000000000000000000000000000dEaD",
    value: "0x1", gas: "0x5208", nonce: "0x0", maxFeePerGas: "0x3b9aca00", maxPriorityFeePerGas: "0x1", chainId: "0x7a69" }],
    { token: agentToken });
  assert.equal(r.error.code, -32003);
  assert.equal(r.error.data.rule, "no-blocked");
});

test("a transfer above the threshold waits for two approvers with TOTP, then is mined", { skip }, async () => {
  const r = await sigil.rpc("eth_sendTransaction", [{ from: trader, to: TREASURY, value: "0x" + ethers.parseEther("2").toString(16) }],
    { token: agentToken });
  assert.equal(r.error.code, -32002, JSON.stringify(r));
  const id = r.error.data.approval_id;
  assert.match(id, /^ap_/);
  assert.equal(r.error.data.quorum, 2);
  // The agent cannot approve its own request.
  const self = await sigil.rest("POST", `/v1/approvals/${id}/approve`, { totp: "000000" }, { token: agentToken });
  assert.equal(self.status, 403);
  // A wrong code does not count.
  const bad = await sigil.rest("POST", `/v1/approvals/${id}/approve`, { totp: "000000" }, { token: approvers[0].token });
  assert.notEqual(bad.status, 200);
  for (const a of approvers) {
    const res = await sigil.rest("POST", `/v1/approvals/${id}/approve`, { totp: totp(a.secret) }, { token: a.token });
    assert.equal(res.status, 200, res.text);
  }
  const status = await sigil.rpc("sigil_approvalStatus", [id], { token: agentToken });
  assert.equal(status.result.state, "consumed", JSON.stringify(status));
  assert.equal(status.result.sent, true, JSON.stringify(status.result));
  const provider = new ethers.JsonRpcProvider(node.url, 31337, { staticNetwork: true });
  const receipt = await provider.waitForTransaction(status.result.result);
  assert.equal(receipt.status, 1);
  assert.equal(receipt.from, trader);
  // One-time: polling again returns no second signature.
  const again = await sigil.rpc("sigil_approvalStatus", [id], { token: agentToken });
  assert.equal(again.result.state, "consumed");
  assert.equal(again.result.result, undefined);
});

test("viem walletClient signTransaction and signTypedData through Sigil", { skip }, async () => {
  const client = createWalletClient({
    account: trader,
    chain: { id: 31337, name: "hardhat", nativeCurrency: { name: "ETH", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [sigil.url + "/rpc"] } } },
    transport: http(sigil.url + "/rpc", { fetchOptions: { headers: { Authorization: `Bearer ${agentToken}` } } }),
  });
  // Budget is spent for value transfers; a zero-value call still passes the rule.
  const raw = await client.signTransaction({ to: TREASURY, value: 0n, gas: 21000n, nonce: 100, maxFeePerGas: 2_000_000_000n,
    maxPriorityFeePerGas: 1n, chainId: 31337 });
  assert.match(raw, /^0x02/);
  assert.equal(await recoverTransactionAddress({ serializedTransaction: raw }), trader);

  const domain = { name: "Sigil Test", version: "1", chainId: 31337, verifyingContract: TREASURY };
  const types = { Order: [{ name: "maker", type: "address" }, { name: "amount", type: "uint256" }, { name: "note", type: "string" }] };
  const message = { maker: trader, amount: 12345n, note: "hello" };
  const signature = await client.signTypedData({ domain, types, primaryType: "Order", message });
  assert.ok(await verifyTypedData({ address: trader, domain, types, primaryType: "Order", message, signature }));

  // A domain-only document (primaryType EIP712Domain): viem sends no message.
  const domainOnly = await client.signTypedData({ domain, types: {}, primaryType: "EIP712Domain" });
  assert.ok(await verifyTypedData({ address: trader, domain, types: {}, primaryType: "EIP712Domain", signature: domainOnly }));
});
