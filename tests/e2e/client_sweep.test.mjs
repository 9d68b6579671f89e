// A sweep of ordinary ethers v6 and viem flows pointed at Sigil, which
// signs and proxies everything else to a hardhat node: contract deployment
// and calls, every transaction type, messages and typed data of many
// shapes, JSON-RPC batching, and what a client shows when Sigil refuses.
// What Sigil signs is checked by the clients' own verifiers and by mining.
//
// The tests on the upstream node's secrets, its large answers and domain-only
// typed data failed on the daemon before their fixes.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { ethers } from "ethers";
import {
  createWalletClient, createPublicClient, http, parseAbi, verifyMessage, verifyTypedData,
  recoverTransactionAddress, hashTypedData, recoverAddress,
} from "viem";
import { SIGIL_BIN, SigilServer, DEV_KEY_0 } from "./lib/harness.mjs";
import { startFundedSigil, minedReceipt } from "./lib/funded_sigil.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;
const TREASURY = "0x1111111111111111111111111111111111111111";
const BLOCKED = "0x000000000000000000000000000000000000dEaD";
const ETH = 10n ** 18n;

// Permissive for the key, except a blocked recipient (deny), more than
// 5 ether (held for one approver) and typed data for a domain named
// "Forbidden" (deny), so refusals can be seen from the clients too.
const POLICY = {
  version: 1,
  lists: { blocked: [BLOCKED.toLowerCase()] },
  rules: [
    { id: "no-blocked", effect: "deny", match: { kind: "eth_tx", to: { in: "@blocked" } }, reason: "recipient is blocked" },
    { id: "big-hold", effect: "require_approval", match: { kind: "eth_tx", value: { gt: "5 ether" } },
      approval: { quorum: 1, role: "approver", expires: "1h" } },
    { id: "forbidden-domain", effect: "deny", match: { kind: "eth_typed_data", domain: { name: "Forbidden" } },
      reason: "this domain is not to be signed" },
    { id: "any-tx", effect: "allow", match: { kind: "eth_tx", value: { lte: "5 ether" } } },
    { id: "typed", effect: "allow", match: { kind: "eth_typed_data" } },
    { id: "messages", effect: "allow", match: { kind: "eth_message" } },
  ],
};

// Hand-written EVM code (no solc offline).
// Store: a 36-byte call (set(uint256)) stores word 1 of the calldata in
// slot 0 and emits Set(uint256) with it; any other call returns slot 0.
const SET_TOPIC = ethers.id("Set(uint256)").slice(2);
const STORE_RUNTIME = "36602414601257" + "600054" + "600052" + "60206000f3" + "5b" + "600435" + "80" + "600055" +
  "600052" + "7f" + SET_TOPIC + "60206000a1" + "00";
const STORE_ABI = ["function set(uint256 v)", "function get() view returns (uint256)", "event Set(uint256 value)"];
// Reverter: every call reverts with Error("nope").
const NOPE = ethers.concat(["0x08c379a0", ethers.AbiCoder.defaultAbiCoder().encode(["string"], ["nope"])]).slice(2);
const NOPE_RUNTIME = "60" + hexByte(NOPE.length / 2) + "600c600039" + "60" + hexByte(NOPE.length / 2) + "6000fd" + NOPE;
const REVERT_ABI = ["function poke()", "function peek() view returns (uint256)"];
// Logger: copies its calldata to memory and emits it as LOG0 40 times.
const LOGGER_RUNTIME = "3660006000376028" + "5b" + "36" + "6000a0" + "6001900380600857" + "00";

function hexByte(n) {
  assert.ok(n < 256);
  return n.toString(16).padStart(2, "0");
}
function initCode(runtime) {
  const n = hexByte(runtime.length / 2);
  return "0x60" + n + "600c600039" + "60" + n + "6000f3" + runtime;
}

describe("ethers v6 and viem through Sigil (one hardhat node, one Sigil)", { skip }, () => {
  let node, sigil, nodeProvider, trader, agentToken, batched, unbatched, otherAddress;

  function agentProvider(options = {}) {
    const req = new ethers.FetchRequest(sigil.url + "/rpc");
    req.setHeader("Authorization", `Bearer ${agentToken}`);
    return new ethers.JsonRpcProvider(req, 31337, { staticNetwork: true, ...options });
  }
  const chain = () => ({ id: 31337, name: "hardhat", nativeCurrency: { name: "ETH", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [sigil.url + "/rpc"] } } });
  const transport = (opts = {}) =>
    http(sigil.url + "/rpc", { ...opts, fetchOptions: { headers: { Authorization: `Bearer ${agentToken}` } } });
  const rpc = (method, params) => sigil.rpc(method, params, { token: agentToken });
  // The node's pending nonce, uncached (ethers caches identical calls for 250 ms).
  const pendingNonce = async (address) => Number(await nodeProvider.send("eth_getTransactionCount", [address, "pending"]));
  // The JSON-RPC error inside whatever ethers threw.
  const rpcErrorOf = (err) => err.error || err.info?.error || err;

  before(async () => {
    ({ node, sigil, nodeProvider, address: trader, agentToken } = await startFundedSigil({ policy: POLICY }));
    const other = sigil.cli(["key", "create", "other", "--json"]);
    assert.equal(other.code, 0, other.stderr);
    otherAddress = other.json.address;
    batched = agentProvider(); // ethers' default: calls of one tick share one HTTP request
    unbatched = agentProvider({ batchMaxCount: 1 });
  });

  after(async () => {
    for (const p of [batched, unbatched, nodeProvider]) if (p) p.destroy();
    if (sigil) await sigil.stop();
    if (node) await node.stop();
  });

  describe("ethers v6", () => {
    test("default batching: reads, fee data and two signatures in one HTTP batch", async () => {
      const seen = [];
      batched.on("debug", (ev) => { if (ev.action === "sendRpcPayload") seen.push(ev.payload); });
      const signer = await batched.getSigner();
      assert.equal(await signer.getAddress(), trader);
      const [a, b, blockNumber, nonce, balance, block, fee] = await Promise.all([
        signer.signMessage("first"), signer.signMessage("second"), batched.getBlockNumber(),
        batched.getTransactionCount(trader, "pending"), batched.getBalance(trader), batched.getBlock("latest"),
        batched.getFeeData(),
      ]);
      batched.off("debug");
      assert.ok(seen.some((p) => Array.isArray(p) && p.length >= 2), "ethers sent a JSON-RPC batch");
      assert.equal(ethers.verifyMessage("first", a), trader);
      assert.equal(ethers.verifyMessage("second", b), trader);
      assert.equal(block.number, blockNumber);
      assert.equal(typeof nonce, "number");
      assert.ok(balance > 0n);
      assert.ok(fee.maxFeePerGas > 0n && fee.gasPrice > 0n);
    });

    test("signMessage: a string (even one that looks like hex) is UTF-8, a Uint8Array is bytes", async () => {
      const signer = await unbatched.getSigner();
      for (const m of ["hello", "", "héllo ✓ 🚀", "0x1234", new Uint8Array([0, 1, 2, 0x80, 0xff]), new Uint8Array()]) {
        const sig = await signer.signMessage(m);
        assert.equal(ethers.verifyMessage(m, sig), trader, String(m));
      }
      // The hex-looking string was signed as its six characters, not as two bytes.
      const sig = await signer.signMessage("0x1234");
      assert.notEqual(ethers.verifyMessage(ethers.getBytes("0x1234"), sig), trader);
    });

    test("signTypedData: nested and recursive-free structs, arrays of structs, bytes, negative ints, uint8 arrays", async () => {
      const signer = await unbatched.getSigner();
      const domain = { name: "Sweep", version: "1", chainId: 31337, verifyingContract: TREASURY };
      const cases = [
        [{ Person: [{ name: "name", type: "string" }, { name: "wallet", type: "address" }],
          Mail: [{ name: "from", type: "Person" }, { name: "to", type: "Person[]" }, { name: "contents", type: "string" }] },
        { from: { name: "Cow", wallet: "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
          to: [{ name: "Bob", wallet: TREASURY }, { name: "Eve", wallet: trader }], contents: "Hello, Bob!" }],
        [{ M: [{ name: "b", type: "bytes" }, { name: "e", type: "bytes" }, { name: "b32", type: "bytes32" }, { name: "b1", type: "bytes1" }] },
          { b: "0xdeadbeef", e: "0x", b32: ethers.id("x"), b1: "0xff" }],
        [{ M: [{ name: "a", type: "int256" }, { name: "b", type: "int8" }, { name: "c", type: "int64" }] },
          { a: -1n, b: -128, c: -(2n ** 63n) }],
        [{ M: [{ name: "a", type: "uint8[]" }, { name: "f", type: "uint8[3]" }, { name: "g", type: "uint256[][]" }, { name: "t", type: "bool[]" }] },
          { a: [1, 2, 255], f: [0, 1, 2], g: [[1n, 2n], [], [3n]], t: [true, false] }],
        [{ P: [{ name: "x", type: "uint256" }], M: [{ name: "ps", type: "P[2]" }, { name: "max", type: "uint256" }] },
          { ps: [{ x: 1 }, { x: 2 }], max: 2n ** 256n - 1n }],
        [{ Z: [{ name: "x", type: "uint256" }], A: [{ name: "z", type: "Z" }], M: [{ name: "a", type: "A" }, { name: "z", type: "Z" }] },
          { a: { z: { x: 1 } }, z: { x: 2 } }],
      ];
      for (const [types, message] of cases) {
        const sig = await signer.signTypedData(domain, types, message);
        assert.equal(ethers.verifyTypedData(domain, types, message, sig), trader, JSON.stringify(types));
      }
      // Domains without verifyingContract, with a salt, and empty.
      const types = { M: [{ name: "a", type: "uint256" }] };
      for (const d of [{ name: "T", chainId: 31337 }, { name: "T", salt: ethers.id("salt") }, {}]) {
        const sig = await signer.signTypedData(d, types, { a: 1 });
        assert.equal(ethers.verifyTypedData(d, types, { a: 1 }, sig), trader, JSON.stringify(d));
      }
    });

    test("ContractFactory deploys (no `to`), and calls, estimateGas, populateTransaction and logs work", async () => {
      const signer = await unbatched.getSigner();
      const factory = new ethers.ContractFactory(STORE_ABI, initCode(STORE_RUNTIME), signer);
      const contract = await factory.deploy();
      const deployTx = contract.deploymentTransaction();
      const deployed = await minedReceipt(nodeProvider, deployTx.hash);
      assert.equal(deployed.status, 1);
      assert.equal(deployed.from, trader);
      assert.equal(deployed.contractAddress, ethers.getCreateAddress({ from: trader, nonce: deployTx.nonce }));
      assert.equal(await contract.getAddress(), deployed.contractAddress);
      assert.notEqual(await unbatched.getCode(deployed.contractAddress), "0x");

      const set = await contract.set(42n);
      const receipt = await minedReceipt(nodeProvider, set.hash);
      assert.equal(receipt.status, 1);
      assert.equal(contract.interface.parseLog(receipt.logs[0]).args[0], 42n);
      assert.equal(await contract.get(), 42n); // eth_call through Sigil
      assert.ok((await contract.set.estimateGas(7n)) > 21000n);
      const populated = await contract.set.populateTransaction(7n);
      assert.equal(populated.to, deployed.contractAddress);
      assert.equal(contract.interface.parseTransaction(populated).args[0], 7n);
      const logs = await unbatched.getLogs({ address: deployed.contractAddress, fromBlock: 0, toBlock: "latest" });
      assert.equal(logs.length, 1);
      const events = await contract.queryFilter(contract.filters.Set(), 0);
      assert.equal(events[0].args[0], 42n);

      // Explicit nonce and gasLimit on a deployment.
      const nonce = await pendingNonce(trader);
      const second = await factory.deploy({ nonce, gasLimit: 200000 });
      const r2 = await minedReceipt(nodeProvider, second.deploymentTransaction().hash);
      assert.equal(r2.contractAddress, ethers.getCreateAddress({ from: trader, nonce }));
    });

    test("a revert reason reaches ethers as CALL_EXCEPTION for eth_call, estimateGas and send", async () => {
      const signer = await unbatched.getSigner();
      const factory = new ethers.ContractFactory(REVERT_ABI, initCode(NOPE_RUNTIME), signer);
      const c = await factory.deploy();
      await minedReceipt(nodeProvider, c.deploymentTransaction().hash);
      for (const attempt of [() => c.peek(), () => c.poke.estimateGas(), () => c.poke()]) {
        await assert.rejects(attempt(), (e) => {
          assert.equal(e.code, "CALL_EXCEPTION", e.message);
          assert.equal(e.reason, "nope");
          return true;
        });
      }
    });

    test("legacy, EIP-2930 and EIP-1559 with explicit nonce, gasLimit, gasPrice and accessList are mined as asked", async () => {
      const signer = await unbatched.getSigner();
      const gasPrice = (await nodeProvider.getFeeData()).gasPrice * 2n;
      const accessList = [{ address: TREASURY, storageKeys: [ethers.ZeroHash] }];
      const cases = [
        [{ to: TREASURY, value: 1n, type: 0 }, (t) => t.type === 0],
        [{ to: TREASURY, value: 1n, gasPrice }, (t) => t.type === 0 && t.gasPrice === gasPrice],
        [{ to: TREASURY, value: 1n, type: 0, gasPrice, gasLimit: 30000 }, (t) => t.type === 0 && t.gasLimit === 30000n],
        [{ to: TREASURY, value: 1n, type: 1, accessList }, (t) => t.type === 1 && t.accessList.length === 1],
        [{ to: TREASURY, value: 1n, type: 1, gasPrice, accessList: [] }, (t) => t.type === 1 && t.gasPrice === gasPrice],
        [{ to: TREASURY, value: 1n, type: 2, accessList }, (t) => t.type === 2 && t.accessList.length === 1],
        [{ to: TREASURY, value: 1n, type: 2, maxFeePerGas: gasPrice * 2n, maxPriorityFeePerGas: 7n },
          (t) => t.type === 2 && t.maxPriorityFeePerGas === 7n && t.maxFeePerGas === gasPrice * 2n],
        [{ to: TREASURY }, (t) => t.type === 2 && t.value === 0n],
      ];
      for (const [request, check] of cases) {
        const nonce = await pendingNonce(trader);
        const sent = await signer.sendTransaction({ ...request, nonce });
        const receipt = await minedReceipt(nodeProvider, sent.hash);
        assert.equal(receipt.status, 1);
        const mined = await nodeProvider.getTransaction(sent.hash);
        assert.equal(mined.from, trader);
        assert.equal(mined.nonce, nonce);
        assert.equal(mined.chainId, 31337n);
        assert.ok(check(mined), JSON.stringify(request, (k, v) => (typeof v === "bigint" ? String(v) : v)));
      }
    });

    test("signTransaction then broadcastTransaction; NonceManager; concurrent sends get distinct nonces", async () => {
      const signer = await batched.getSigner();
      const raw = await signer.signTransaction({ to: TREASURY, value: 5n });
      const parsed = ethers.Transaction.from(raw);
      assert.equal(parsed.from, trader);
      assert.equal(parsed.chainId, 31337n);
      const resp = await batched.broadcastTransaction(raw);
      assert.equal((await minedReceipt(nodeProvider, resp.hash)).status, 1);

      const nm = new ethers.NonceManager(signer);
      const a = await nm.sendTransaction({ to: TREASURY, value: 1n });
      const b = await nm.sendTransaction({ to: TREASURY, value: 1n });
      assert.equal(b.nonce, a.nonce + 1);
      await minedReceipt(nodeProvider, b.hash);

      // Three sends in the same tick: ethers puts the eth_sendTransaction calls in one batch.
      const sent = await Promise.all([1n, 2n, 3n].map((value) => signer.sendTransaction({ to: TREASURY, value })));
      assert.equal(new Set(sent.map((t) => t.nonce)).size, 3);
      for (const t of sent) assert.equal((await minedReceipt(nodeProvider, t.hash)).status, 1);
    });

    test("a node's refusal keeps its message: ethers maps a used nonce to NONCE_EXPIRED", async () => {
      const signer = await unbatched.getSigner();
      await assert.rejects(signer.sendTransaction({ to: TREASURY, value: 1n, nonce: 0, gasLimit: 21000 }), (e) => {
        assert.equal(e.code, "NONCE_EXPIRED", e.message);
        return true;
      });
    });

    test("refusals: the policy's reason and data reach an ethers user in err.error", async () => {
      const signer = await unbatched.getSigner();
      await assert.rejects(signer.sendTransaction({ to: BLOCKED, value: 1n }), (err) => {
        const e = rpcErrorOf(err);
        assert.equal(e.code, -32003, JSON.stringify(e));
        assert.equal(e.data.rule, "no-blocked");
        assert.equal(e.data.reason, "recipient is blocked");
        assert.match(e.message, /recipient is blocked/);
        return true;
      });
      await assert.rejects(signer.sendTransaction({ to: TREASURY, value: 6n * ETH }), (err) => {
        const e = rpcErrorOf(err);
        assert.equal(e.code, -32002, JSON.stringify(e));
        assert.match(e.data.approval_id, /^ap_[0-9a-f]{16}$/);
        assert.equal(e.data.quorum, 1);
        return true;
      });
      await assert.rejects(signer.signTypedData({ name: "Forbidden" }, { M: [{ name: "a", type: "uint256" }] }, { a: 1 }), (err) => {
        const e = rpcErrorOf(err);
        assert.equal(e.code, -32003, JSON.stringify(e));
        assert.equal(e.data.rule, "forbidden-domain");
        return true;
      });
      // A key that exists but is not the token's, and an unknown address, get
      // the same -32001: an agent cannot probe which keys exist.
      const notMine = new ethers.JsonRpcSigner(unbatched, otherAddress);
      await assert.rejects(notMine.signMessage("x"), (err) => rpcErrorOf(err).code === -32001);
      const unknown = new ethers.JsonRpcSigner(unbatched, "0x2222222222222222222222222222222222222222");
      await assert.rejects(unknown.sendTransaction({ to: TREASURY, value: 1n }), (err) => {
        const e = rpcErrorOf(err);
        assert.equal(e.code, -32001);
        assert.match(e.message, /may not use key/);
        return true;
      });
    });
  });

  describe("viem", () => {
    let wallet, pub;
    before(() => {
      wallet = createWalletClient({ account: trader, chain: chain(), transport: transport() });
      pub = createPublicClient({ chain: chain(), transport: transport({ batch: true }) });
    });

    test("public client reads (batched), fees and the pending nonce through Sigil", async () => {
      const [block, balance, chainId, nonce, fees, gasPrice] = await Promise.all([
        pub.getBlockNumber(), pub.getBalance({ address: trader }), pub.getChainId(),
        pub.getTransactionCount({ address: trader, blockTag: "pending" }), pub.estimateFeesPerGas(), pub.getGasPrice(),
      ]);
      assert.ok(block > 0n && balance > 0n && nonce > 0 && gasPrice > 0n);
      assert.equal(chainId, 31337);
      assert.ok(fees.maxFeePerGas >= fees.maxPriorityFeePerGas);
      assert.deepEqual(await wallet.getAddresses(), [trader]);
    });

    test("signMessage: string, raw hex, raw bytes and empty; verifyMessage accepts each", async () => {
      for (const message of ["hello", "", { raw: "0xdeadbeef" }, { raw: new Uint8Array([1, 2, 3]) }]) {
        const signature = await wallet.signMessage({ message });
        assert.ok(await verifyMessage({ address: trader, message, signature }), JSON.stringify(message));
      }
    });

    test("signTypedData: negative ints, bytes, arrays of structs, uint8[], bigint chainId, salt-only domain", async () => {
      const domain = { name: "Sweep", version: "1", chainId: 31337, verifyingContract: TREASURY };
      const cases = [
        { domain, types: { M: [{ name: "a", type: "int256" }, { name: "b", type: "int8" }] }, primaryType: "M", message: { a: -5n, b: -1 } },
        { domain, types: { M: [{ name: "a", type: "bytes" }, { name: "b", type: "bytes4" }] }, primaryType: "M", message: { a: "0x00ff", b: "0xdeadbeef" } },
        { domain, types: { P: [{ name: "n", type: "string" }, { name: "w", type: "address" }], M: [{ name: "ps", type: "P[]" }, { name: "u", type: "uint8[]" }] },
          primaryType: "M", message: { ps: [{ n: "a", w: TREASURY }, { n: "b", w: trader }], u: [1, 2, 3] } },
        { domain: { ...domain, chainId: 31337n }, types: { M: [{ name: "a", type: "uint256" }] }, primaryType: "M", message: { a: 2n ** 256n - 1n } },
        { domain: { name: "T", salt: "0x" + "11".repeat(32) }, types: { M: [{ name: "a", type: "uint256" }] }, primaryType: "M", message: { a: 1n } },
      ];
      for (const c of cases) {
        const signature = await wallet.signTypedData(c);
        assert.ok(await verifyTypedData({ address: trader, ...c, signature }), JSON.stringify(c.types));
      }
    });

    test("prepareTransactionRequest, sendTransaction (1559, legacy, EIP-2930, gasPrice), signTransaction, deployContract", async () => {
      const prepared = await wallet.prepareTransactionRequest({ to: TREASURY, value: 1n });
      assert.equal(prepared.chainId, 31337);
      assert.equal(prepared.type, "eip1559");
      assert.ok(prepared.gas >= 21000n);
      const sends = [
        [{ to: TREASURY, value: 1n }, "eip1559"],
        [{ to: TREASURY, value: 1n, type: "legacy" }, "legacy"],
        [{ to: TREASURY, value: 1n, type: "eip2930", accessList: [{ address: TREASURY, storageKeys: [] }] }, "eip2930"],
        [{ to: TREASURY, value: 1n, gasPrice: 3_000_000_000n }, "legacy"],
      ];
      for (const [request, type] of sends) {
        const hash = await wallet.sendTransaction(request);
        const receipt = await minedReceipt(nodeProvider, hash);
        assert.equal(receipt.status, 1);
        const tx = await pub.getTransaction({ hash });
        assert.equal(tx.type, type);
        assert.equal(tx.from.toLowerCase(), trader.toLowerCase());
      }
      const raw = await wallet.signTransaction({ to: TREASURY, value: 1n });
      assert.equal(await recoverTransactionAddress({ serializedTransaction: raw }), trader);
      const rawLegacy = await wallet.signTransaction({ to: TREASURY, value: 1n, gasPrice: 1n, gas: 21000n, nonce: 0, type: "legacy" });
      assert.equal(await recoverTransactionAddress({ serializedTransaction: rawLegacy }), trader);

      const abi = parseAbi(STORE_ABI);
      const hash = await wallet.deployContract({ abi, bytecode: initCode(STORE_RUNTIME) });
      const { contractAddress, status } = await minedReceipt(nodeProvider, hash);
      assert.equal(status, 1);
      const { request } = await pub.simulateContract({ account: trader, address: contractAddress, abi, functionName: "set", args: [5n] });
      assert.equal((await minedReceipt(nodeProvider, await wallet.writeContract(request))).status, 1);
      assert.equal(await pub.readContract({ address: contractAddress, abi, functionName: "get" }), 5n);
      const events = await pub.getContractEvents({ address: contractAddress, abi, eventName: "Set", fromBlock: 0n });
      assert.deepEqual(events.map((e) => e.args.value), [5n]);
    });

    test("refusals: viem surfaces the code, Sigil's message as details, and data on the cause", async () => {
      const codeOf = (e) => e.walk((x) => typeof x.code === "number")?.code;
      const dataOf = (e) => e.walk((x) => x.data && typeof x.data === "object")?.data;
      await assert.rejects(wallet.sendTransaction({ to: BLOCKED, value: 1n }), (e) => {
        assert.equal(codeOf(e), -32003);
        assert.match(e.details, /denied by policy rule no-blocked: recipient is blocked/);
        assert.equal(dataOf(e).rule, "no-blocked");
        return true;
      });
      await assert.rejects(wallet.sendTransaction({ to: TREASURY, value: 7n * ETH }), (e) => {
        assert.equal(codeOf(e), -32002);
        assert.match(dataOf(e).approval_id, /^ap_/);
        return true;
      });
      const stranger = createWalletClient({ account: "0x2222222222222222222222222222222222222222", chain: chain(), transport: transport() });
      await assert.rejects(stranger.signMessage({ message: "hi" }), (e) => {
        assert.equal(codeOf(e), -32001);
        assert.match(e.details, /may not use key/);
        return true;
      });
      // A client configured for another chain is stopped by viem itself (Sigil answers the node's chain id).
      const wrong = createWalletClient({ account: trader, chain: { ...chain(), id: 1 }, transport: transport() });
      await assert.rejects(wrong.sendTransaction({ to: TREASURY, value: 1n }), /does not match the target chain/);
    });

    test("signTypedData with primaryType EIP712Domain signs the domain alone, as viem and MetaMask do",
      async () => {
        const domain = { name: "Sweep", version: "1", chainId: 31337, verifyingContract: TREASURY };
        const signature = await wallet.signTypedData({ domain, types: {}, primaryType: "EIP712Domain" });
        assert.ok(await verifyTypedData({ address: trader, domain, types: {}, primaryType: "EIP712Domain", signature }));
        const hash = hashTypedData({ domain, types: {}, primaryType: "EIP712Domain" });
        assert.equal(await recoverAddress({ hash, signature }), trader);
      });
  });

  describe("raw JSON-RPC as other clients send it", () => {
    test("personal_sign accepts UTF-8 text, odd hex as text, a lower-case address, a key name and a third (password) param", async () => {
      const cases = [
        [["hello world", trader], "hello world"],
        [["0x123", trader], "0x123"],
        [["0x68656c6c6f", trader.toLowerCase()], "hello"],
        [["0x68656c6c6f", "trader"], "hello"],
        [["0x68656c6c6f", trader, "password"], "hello"],
        [["0x", trader], new Uint8Array()],
      ];
      for (const [params, expected] of cases) {
        const r = await rpc("personal_sign", params);
        assert.ok(r.result, JSON.stringify(r));
        assert.equal(ethers.verifyMessage(expected, r.result), trader, JSON.stringify(params));
      }
    });

    test("eth_sendTransaction fields: `input` for `data`, to: null deploys, gasLimit alias; conflicts are -32602 with field", async () => {
      const withInput = await rpc("eth_signTransaction", [{ from: trader, to: TREASURY, input: "0xdeadbeef", gas: "0x10000" }]);
      assert.equal(ethers.Transaction.from(withInput.result).data, "0xdeadbeef");
      const create = await rpc("eth_signTransaction", [{ from: trader, to: null, data: initCode("602a60005260206000f3") }]);
      assert.equal(ethers.Transaction.from(create.result).to, null);
      const differ = await rpc("eth_signTransaction", [{ from: trader, to: TREASURY, input: "0xdeadbeef", data: "0x12" }]);
      assert.equal(differ.error?.code, -32602);
      assert.equal(differ.error.data.field, "input");
      const mixed = await rpc("eth_signTransaction", [{ from: trader, to: TREASURY, type: "0x2", gasPrice: "0x1" }]);
      assert.equal(mixed.error?.data?.field, "gasPrice");
      const blob = await rpc("eth_signTransaction", [{ from: trader, to: TREASURY, type: "0x3" }]);
      assert.equal(blob.error?.data?.field, "type");
    });

    test("a proxied read whose answer exceeds 8 MiB is passed on, like every other proxied answer", async () => {
        // Four transactions, each 40 logs of 32 KiB (hex: 64 KiB): about 10 MB of eth_getLogs.
        const funder = new ethers.Wallet(DEV_KEY_0, nodeProvider);
        let nonce = await pendingNonce(funder.address);
        const deploy = await funder.sendTransaction({ data: initCode(LOGGER_RUNTIME), nonce: nonce++ });
        const { contractAddress } = await minedReceipt(nodeProvider, deploy.hash);
        const fromBlock = ethers.toQuantity(await nodeProvider.getBlockNumber());
        for (let i = 0; i < 4; i++) {
          const t = await funder.sendTransaction({ to: contractAddress, data: "0x" + "00".repeat(32 * 1024), gasLimit: 15_000_000, nonce: nonce++ });
          assert.equal((await minedReceipt(nodeProvider, t.hash)).status, 1);
        }
        const filter = { address: contractAddress, fromBlock, toBlock: "latest" };
        const direct = await nodeProvider.send("eth_getLogs", [filter]);
        assert.equal(direct.length, 160);
        const viaSigil = await rpc("eth_getLogs", [filter]);
        assert.equal(viaSigil.error, undefined, JSON.stringify(viaSigil.error));
        assert.equal(viaSigil.result.length, 160);
      });
  });
});

describe("upstream node secrets never reach an agent", { skip }, () => {
  const servers = [];
  after(async () => {
    for (const s of servers) await s.stop();
  });

  async function agentOn(upstream) {
    const s = new SigilServer({ extraArgs: ["--upstream", upstream] });
    servers.push(s);
    await s.start();
    const key = s.cli(["key", "create", "k", "--json"]);
    assert.equal(key.code, 0, key.stderr);
    const tok = s.cli(["token", "create", "--role", "agent", "--name", "a", "--keys", "k", "--json"]);
    assert.equal(tok.code, 0, tok.stderr);
    return { s, address: key.json.address, token: tok.json.token };
  }

  test("an API key in the upstream URL's path (Infura /v3/KEY, Alchemy /v2/KEY) is not echoed in errors", async () => {
      const { s, address, token } = await agentOn("http://127.0.0.1:9/v3/SECRETKEY123");
      for (const [method, params] of [["eth_blockNumber", []], ["eth_chainId", []],
        ["eth_sendTransaction", [{ from: address, to: TREASURY, value: "0x1" }]]]) {
        const r = await s.rpc(method, params, { token });
        assert.equal(r.error?.code, -32006, JSON.stringify(r));
        assert.doesNotMatch(JSON.stringify(r), /SECRETKEY123/, method);
      }
    });

  test("an upstream URL with user:password is refused at startup, and the password is never echoed", async () => {
      const upstream = "http://user:hunter2@127.0.0.1:9/v3/APIKEY42";
      const s = new SigilServer({ extraArgs: ["--upstream", upstream] });
      servers.push(s);
      let started = true;
      try {
        await s.start();
      } catch {
        started = false;
      }
      if (started) {
        const r = await s.rpc("eth_blockNumber", []);
        assert.doesNotMatch(JSON.stringify(r), /hunter2/, "the password reached the caller");
      }
      assert.equal(started, false, "a URL the client can never use should stop the server at startup (exit 2)");
      assert.equal(s.proc.child.exitCode, 2, s.output());
      assert.match(s.output(), /upstream URL/);
      assert.doesNotMatch(s.output(), /hunter2|APIKEY42/);
    });
});
