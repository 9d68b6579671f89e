// What Sigil asks of and passes on from the upstream node, against a real
// hardhat node: nonces never strand a key after a failed send, gas filled
// for a transaction with an access list is enough, a reverting call keeps
// the node's error and revert data, a chain id other than the node's is
// refused before signing, a node's error code never reads as one of Sigil's,
// and signing methods Sigil does not offer are never forwarded.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { ethers } from "ethers";
import { SIGIL_BIN } from "./lib/harness.mjs";
import { startFundedSigil, minedReceipt } from "./lib/funded_sigil.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;
let node, sigil, agentToken, trader, nodeProvider;
const TREASURY = "0x1111111111111111111111111111111111111111";

const POLICY = {
  version: 1,
  rules: [
    { id: "any-tx", effect: "allow", match: { kind: "eth_tx" } },
    { id: "typed", effect: "allow", match: { kind: "eth_typed_data" } },
  ],
};

async function rpc(method, params) {
  return sigil.rpc(method, params, { token: agentToken });
}

async function auditSize() {
  const r = await sigil.rest("GET", "/v1/audit/verify");
  assert.equal(r.status, 200, r.text);
  return r.json.records;
}

before(async () => {
  if (skip) return;
  ({ node, sigil, nodeProvider, address: trader, agentToken } = await startFundedSigil({ policy: POLICY }));
});

after(async () => {
  if (nodeProvider) nodeProvider.destroy();
  if (sigil) await sigil.stop();
  if (node) await node.stop();
});

async function sendAndExpectMined(tx) {
  const r = await rpc("eth_sendTransaction", [tx]);
  assert.ok(r.result, JSON.stringify(r));
  const receipt = await minedReceipt(nodeProvider, r.result);
  assert.equal(receipt.status, 1);
  assert.equal(receipt.from, trader);
  return receipt;
}

test("a send the node refuses leaves no nonce gap: the next sends are mined", { skip }, async () => {
  // 0x5000 gas is below a transfer's intrinsic 21000: signed, refused by the node.
  const refused = await rpc("eth_sendTransaction", [{ from: trader, to: TREASURY, value: "0x1", gas: "0x5000" }]);
  assert.ok(refused.error, JSON.stringify(refused));
  assert.ok(refused.error.data.raw, JSON.stringify(refused));
  // A request refused as invalid after its nonce was taken: the tip Sigil
  // would fill (1 gwei) is capped at the given fee cap, so this one is
  // valid; one with a bad field after the nonce stays invalid and frees it.
  const invalid = await rpc("eth_sendTransaction", [{ from: trader, to: TREASURY, value: "0x1", maxFeePerGas: "0x1", maxPriorityFeePerGas: "0x2" }]);
  assert.equal(invalid.error?.code, -32602, JSON.stringify(invalid));
  for (let i = 0; i < 3; i++) await sendAndExpectMined({ from: trader, to: TREASURY, value: "0x1" });
});

test("gas filled for a transaction with an access list covers the list", { skip }, async () => {
  const accessList = [{ address: TREASURY, storageKeys: [ethers.zeroPadValue("0x01", 32), ethers.zeroPadValue("0x02", 32)] }];
  const receipt = await sendAndExpectMined({ from: trader, to: TREASURY, value: "0x1", accessList, type: "0x2" });
  assert.ok(receipt.gasUsed > 21000n, String(receipt.gasUsed));
  const legacy = await sendAndExpectMined({ from: trader, to: TREASURY, value: "0x1", accessList, type: "0x1" });
  assert.ok(legacy.gasUsed > 21000n);
});

test("a tip filled from the node never exceeds the caller's fee cap", { skip }, async () => {
  const r = await rpc("eth_signTransaction", [{ from: trader, to: TREASURY, value: "0x1", maxFeePerGas: "0x2" }]);
  assert.ok(r.result, JSON.stringify(r));
  const tx = ethers.Transaction.from(r.result);
  assert.equal(tx.maxFeePerGas, 2n);
  assert.ok(tx.maxPriorityFeePerGas <= 2n, String(tx.maxPriorityFeePerGas));
});

test("a call that reverts in gas estimation keeps the node's error and revert data", { skip }, async () => {
  // Runtime code: revert with the 4 bytes 0xdeadbeef.
  const runtime = "63deadbeef60e01b60005260046000fd";
  const size = (runtime.length / 2).toString(16).padStart(2, "0");
  const init = `0x60${size}600c60003960${size}6000f3` + runtime;
  const deployed = await sendAndExpectMined({ from: trader, data: init });
  const before = await auditSize();
  const r = await rpc("eth_sendTransaction", [{ from: trader, to: deployed.contractAddress, data: "0x12345678" }]);
  assert.ok(r.error, JSON.stringify(r));
  assert.notEqual(r.error.code, -32006, JSON.stringify(r));
  assert.match(JSON.stringify(r.error), /deadbeef/);
  assert.equal(await auditSize(), before, "nothing was decided or signed");
});

test("a chainId other than the node's is refused before anything is signed", { skip }, async () => {
  const before = await auditSize();
  const sent = await rpc("eth_sendTransaction", [{ from: trader, to: TREASURY, value: "0x1", chainId: "0x1" }]);
  assert.equal(sent.error?.code, -32602, JSON.stringify(sent));
  assert.equal(sent.error.data.field, "chainId");
  const filled = await rpc("eth_signTransaction", [{ from: trader, to: TREASURY, value: "0x1", chainId: "0x1" }]);
  assert.equal(filled.error?.code, -32602, JSON.stringify(filled));
  assert.equal(await auditSize(), before);
  // Every field given: an offline signature for another chain is the caller's call.
  const complete = await rpc("eth_signTransaction", [{ from: trader, to: TREASURY, value: "0x1", chainId: "0x1", nonce: "0x0",
    gas: "0x5208", maxFeePerGas: "0x3b9aca00", maxPriorityFeePerGas: "0x1" }]);
  assert.ok(complete.result, JSON.stringify(complete));
  assert.equal(ethers.Transaction.from(complete.result).chainId, 1n);
});

test("a node's error code that is one of Sigil's own is passed on as -32000", { skip }, async () => {
  // Hardhat answers an unknown method with -32004, which Sigil uses for lockdown.
  const r = await rpc("eth_noSuchMethod", []);
  assert.equal(r.error?.code, -32000, JSON.stringify(r));
  assert.equal(r.error.data.upstream_code, -32004);
});

test("signing methods Sigil does not offer are refused, not forwarded; eth_signTypedData is v4", { skip }, async () => {
  for (const method of ["eth_signTypedData_v3", "eth_signTypedData_v1", "eth_sendUnsignedTransaction"]) {
    const r = await rpc(method, [trader, {}]);
    assert.equal(r.error?.code, -32601, method + " " + JSON.stringify(r));
  }
  const domain = { name: "Test", version: "1", chainId: 31337, verifyingContract: TREASURY };
  const types = { Mail: [{ name: "contents", type: "string" }] };
  const message = { contents: "hello" };
  const typed = { domain, types: { EIP712Domain: [
    { name: "name", type: "string" }, { name: "version", type: "string" },
    { name: "chainId", type: "uint256" }, { name: "verifyingContract", type: "address" }], ...types },
  primaryType: "Mail", message };
  const r = await rpc("eth_signTypedData", [trader, typed]);
  assert.ok(r.result, JSON.stringify(r));
  assert.equal(ethers.verifyTypedData(domain, types, message, r.result), trader);
});
