// End-to-end: the official MCP TypeScript SDK (1.32.2) drives Sigil's MCP
// server over stdio (`sigil mcp`) and over streamable HTTP (`/mcp`), against a
// real `sigil server --dev` whose upstream is a hardhat node.
//
//   cd tests/e2e && SIGIL_BIN=../../build/sigil node --test mcp.test.mjs
//
// Skips (with a message) when ${SIGIL_BIN} does not exist.
//
// What the daemon must provide (beyond MCP itself; see doc/mcp.md §7):
//   REST (admin token):  POST /v1/keys {name, type} → {name, type, address|public_key, …}
//                        GET  /v1/keys/{name}       → the same
//                        POST /v1/policy {document_text}
//                        POST /v1/tokens {role, name, keys} → {token, …}
//                        POST /v1/tokens/{name}/totp → {otpauth_uri}
//   REST (approver):     POST /v1/approvals/{id}/approve {"totp": code}
//   JSON-RPC:            eth_accounts, eth_chainId, eth_signTransaction, eth_sendTransaction (via --upstream),
//                        personal_sign, eth_signTypedData_v4, sigil_signNostrEvent, sigil_signSolanaMessage,
//                        sigil_explain, sigil_approvalStatus, sigil_listKeys, sigil_getPolicy, sigil_getBudget
//   `sigil mcp` reads SIGIL_URL and SIGIL_TOKEN and speaks MCP on stdin/stdout.
import { connect } from "node:net";
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createHmac } from "node:crypto";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Transaction, verifyMessage, verifyTypedData, getAddress, parseEther } from "ethers";
import { verifyEvent } from "nostr-tools/pure";
import { ed25519 } from "@noble/curves/ed25519.js";
import { base58 } from "@scure/base";

import { SigilServer, HardhatNode, SIGIL_BIN } from "./lib/harness.mjs";

const SKIP = existsSync(SIGIL_BIN) ? false : `sigil binary not found at ${SIGIL_BIN}: build it (make build) or set SIGIL_BIN`;

const DEV0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"; // hardhat's unlocked, funded account #0
const BLOCKED = "0x000000000000000000000000000000000000dEaD";
const PAYEE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const TOOL_NAMES = [
  "approval_status", "explain", "get_budget", "get_policy", "list_accounts", "send_transaction",
  "sign_message", "sign_nostr_event", "sign_solana_transaction", "sign_transaction", "sign_typed_data",
];

const POLICY = {
  version: 1,
  lists: { blocked: [BLOCKED] },
  rules: [
    { id: "no-blocked", effect: "deny", match: { kind: "eth_tx", to: { in: "@blocked" } }, reason: "recipient is blocked" },
    { id: "small-payments", effect: "allow", keys: ["trader"], agents: ["bot-1"],
      match: { kind: "eth_tx", chain_id: [31337], value: { lte: "0.5 ether" } },
      budgets: [{ window: "24h", max_value: "5 ether", on_exceed: "deny" }] },
    { id: "large-needs-two", effect: "require_approval", keys: ["trader"],
      match: { kind: "eth_tx", chain_id: [31337], value: { gt: "0.5 ether" } },
      approval: { quorum: 2, role: "approver", second_factor: "totp", expires: "1h" } },
    { id: "bot2-allowance", effect: "allow", keys: ["payer"], agents: ["bot-2"],
      match: { kind: "eth_tx", chain_id: [31337], value: { lte: "0.5 ether" } },
      budgets: [{ window: "24h", max_value: "1 ether", on_exceed: "deny" }] },
    { id: "login-messages", effect: "allow", keys: ["trader"], match: { kind: "eth_message" } },
    { id: "local-offers", effect: "allow", keys: ["trader"], match: { kind: "eth_typed_data", domain: { chain_id: 31337 } } },
    { id: "notes", effect: "allow", keys: ["notes"], match: { kind: "nostr_event", event_kind: [1] } },
    { id: "solana", effect: "allow", keys: ["sol"], match: { kind: "solana_tx" } },
  ],
};

// ---------------------------------------------------------------- helpers

// RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s) from an otpauth:// URI.
function totpFromUri(uri, at = Date.now()) {
  const secret = new URL(uri).searchParams.get("secret");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const h = createHmac("sha1", key).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, "0");
}

async function ethRpc(url, method, params = []) {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const j = await r.json();
  if (j.error) throw new Error(`${method}: ${JSON.stringify(j.error)}`);
  return j.result;
}

async function waitReceipt(url, hash) {
  for (let i = 0; i < 100; i++) {
    const r = await ethRpc(url, "eth_getTransactionReceipt", [hash]);
    if (r) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`no receipt for ${hash}`);
}

function ok(r, what) {
  assert.ok(r.status >= 200 && r.status < 300, `${what}: HTTP ${r.status} ${r.text}`);
  return r.json;
}

// A dev server with keys, the policy above, agent and approver tokens, and
// funded Ethereum keys, on a hardhat upstream.
async function startWorld() {
  const hardhat = await new HardhatNode().start();
  const sigil = await new SigilServer({ extraArgs: ["--upstream", hardhat.url] }).start();
  const world = { hardhat, sigil, keys: {}, tokens: {}, totp: {} };
  try {
    for (const [name, type] of [["trader", "secp256k1"], ["payer", "secp256k1"], ["notes", "schnorr"], ["sol", "ed25519"]]) {
      let key = ok(await sigil.rest("POST", "/v1/keys", { name, type }), `create key ${name}`);
      if (!key.address && !key.public_key) key = ok(await sigil.rest("GET", `/v1/keys/${name}`), `show key ${name}`);
      world.keys[name] = key;
    }
    ok(await sigil.rest("POST", "/v1/policy", { document_text: JSON.stringify(POLICY) }), "apply policy");
    for (const [name, role, keys] of [["bot-1", "agent", ["trader", "notes", "sol"]], ["bot-2", "agent", ["payer"]],
                                      ["alice", "approver", []], ["bob", "approver", []]]) {
      world.tokens[name] = ok(await sigil.rest("POST", "/v1/tokens", { role, name, keys }), `token ${name}`).token;
      assert.ok(world.tokens[name], `POST /v1/tokens for ${name} returned no token`);
    }
    for (const name of ["alice", "bob"]) {
      world.totp[name] = ok(await sigil.rest("POST", `/v1/tokens/${name}/totp`, {}), `TOTP for ${name}`).otpauth_uri;
      assert.match(world.totp[name], /^otpauth:\/\/totp\//);
    }
    for (const name of ["trader", "payer"]) {
      const hash = await ethRpc(hardhat.url, "eth_sendTransaction",
        [{ from: DEV0, to: world.keys[name].address, value: "0x" + parseEther("10").toString(16) }]);
      assert.equal((await waitReceipt(hardhat.url, hash)).status, "0x1");
    }
  } catch (e) {
    await stopWorld(world);
    throw e;
  }
  return world;
}

async function stopWorld(world) {
  await world.sigil?.stop();
  await world.hardhat?.stop();
}

async function connectStdio(world, token) {
  const transport = new StdioClientTransport({
    command: SIGIL_BIN, args: ["mcp"], stderr: "pipe",
    // StdioClientTransport passes only HOME, PATH, … unless told: give the URL and token explicitly.
    env: { SIGIL_URL: world.sigil.url, SIGIL_TOKEN: token },
  });
  const client = new Client({ name: "sigil-e2e", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

async function connectHttp(world, token) {
  const transport = new StreamableHTTPClientTransport(new URL(world.sigil.url + "/mcp"), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: "sigil-e2e", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

async function feeFields(hardhatUrl, address) {
  const block = await ethRpc(hardhatUrl, "eth_getBlockByNumber", ["latest", false]);
  const base = BigInt(block.baseFeePerGas);
  return {
    chainId: 31337,
    nonce: Number(BigInt(await ethRpc(hardhatUrl, "eth_getTransactionCount", [address, "pending"]))),
    gas: 21000,
    maxPriorityFeePerGas: "1 gwei",
    maxFeePerGas: (2n * base + 1_000_000_000n).toString(),
  };
}

// A minimal Solana legacy message: a system-program transfer from `payer`.
function solanaTransferMessage(payer) {
  const to = new Uint8Array(32).fill(7);
  const system = new Uint8Array(32);
  const blockhash = new Uint8Array(32).fill(9);
  const data = Buffer.alloc(12);
  data.writeUInt32LE(2, 0); // SystemInstruction::Transfer
  data.writeBigUInt64LE(1000n, 4);
  return Buffer.concat([
    Buffer.from([1, 0, 1]), Buffer.from([3]), payer, to, system, blockhash,
    Buffer.from([1, 2, 2, 0, 1, 12]), data,
  ]);
}

// An ed25519 public key as the API shows it: hex, or base58 (Solana's form).
function ed25519PublicKey(key) {
  const text = key.public_key || key.address;
  if (/^(0x)?[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text.replace(/^0x/, ""), "hex");
  return Buffer.from(base58.decode(text));
}

// ---------------------------------------------------------------- the tool suite, per transport

function toolSuite(name, connect) {
  describe(`MCP over ${name}`, { skip: SKIP }, () => {
    let world;
    let client;
    let trader;

    before(async () => {
      world = await startWorld();
      trader = getAddress(world.keys.trader.address);
      client = await connect(world, world.tokens["bot-1"]);
    });
    after(async () => {
      await client?.close();
      if (world) await stopWorld(world);
    });

    test("initialize: server info, tools capability, protocol version", () => {
      assert.equal(client.getServerVersion().name, "sigil");
      assert.ok(client.getServerCapabilities().tools);
      assert.match(client.getInstructions() ?? "", /list_accounts/);
    });

    test("tools/list: every tool with input and output schemas", async () => {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), TOOL_NAMES);
      for (const t of tools) {
        assert.equal(t.inputSchema.type, "object", t.name);
        assert.equal(t.outputSchema.type, "object", t.name);
        assert.ok(t.description.length > 40, t.name);
      }
    });

    test("list_accounts, get_policy, get_budget", async () => {
      const accounts = await client.callTool({ name: "list_accounts", arguments: {} });
      assert.equal(accounts.isError, false, accounts.content[0].text);
      const names = accounts.structuredContent.accounts.map((a) => a.name);
      assert.ok(names.includes("trader") && names.includes("notes") && names.includes("sol"), names.join(","));
      assert.ok(!names.includes("payer"), "bot-1 must not see bot-2's key");
      assert.equal(getAddress(accounts.structuredContent.accounts.find((a) => a.name === "trader").address), trader);

      const policy = await client.callTool({ name: "get_policy", arguments: {} });
      assert.equal(policy.isError, false, policy.content[0].text);
      assert.ok(policy.structuredContent.rules.some((r) => r.id === "small-payments"));

      const budget = await client.callTool({ name: "get_budget", arguments: {} });
      assert.equal(budget.isError, false, budget.content[0].text);
      assert.ok(Array.isArray(budget.structuredContent.budgets));
      // The small-payments budget of bot-1 on trader, whatever its rule matches on.
      const small = budget.structuredContent.budgets.find((b) => b.rule === "small-payments" && b.key === "trader");
      assert.ok(small, JSON.stringify(budget.structuredContent));
      assert.equal(small.measure, "value");
      assert.match(small.limit, /^[0-9]+$/);
    });

    test("sign_message and sign_typed_data recover to the trader", async () => {
      const msg = await client.callTool({ name: "sign_message", arguments: { message: "login nonce 42", address: trader } });
      assert.equal(msg.isError, false, msg.content[0].text);
      assert.equal(getAddress(verifyMessage("login nonce 42", msg.structuredContent.signature)), trader);

      const typed = {
        types: { EIP712Domain: [{ name: "name", type: "string" }, { name: "chainId", type: "uint256" }],
                 Offer: [{ name: "amount", type: "uint256" }, { name: "memo", type: "string" }] },
        primaryType: "Offer", domain: { name: "Sigil e2e", chainId: 31337 }, message: { amount: "5", memo: "hi" },
      };
      const sig = await client.callTool({ name: "sign_typed_data", arguments: { typed_data: typed, address: trader } });
      assert.equal(sig.isError, false, sig.content[0].text);
      const { EIP712Domain, ...types } = typed.types;
      assert.equal(getAddress(verifyTypedData(typed.domain, types, typed.message, sig.structuredContent.signature)), trader);
    });

    test("sign_transaction gives a raw tx hardhat mines; send_transaction sends one", async () => {
      const fees = await feeFields(world.hardhat.url, trader);
      const r = await client.callTool({ name: "sign_transaction",
        arguments: { from: trader, to: PAYEE, value: "0.01 ether", ...fees } });
      assert.equal(r.isError, false, r.content[0].text);
      const tx = Transaction.from(r.structuredContent.raw_transaction);
      assert.equal(getAddress(tx.from), trader);
      assert.equal(tx.value, parseEther("0.01"));
      const hash = await ethRpc(world.hardhat.url, "eth_sendRawTransaction", [r.structuredContent.raw_transaction]);
      assert.equal((await waitReceipt(world.hardhat.url, hash)).status, "0x1");

      const sent = await client.callTool({ name: "send_transaction", arguments: { to: PAYEE, value: "0.02 ether" } });
      assert.equal(sent.isError, false, sent.content[0].text);
      const receipt = await waitReceipt(world.hardhat.url, sent.structuredContent.tx_hash);
      assert.equal(receipt.status, "0x1");
      assert.equal(getAddress(receipt.from), trader);
    });

    test("sign_nostr_event verifies with nostr-tools", async () => {
      const r = await client.callTool({ name: "sign_nostr_event",
        arguments: { key: "notes", kind: 1, content: "gm from sigil", tags: [["t", "sigil"]] } });
      assert.equal(r.isError, false, r.content[0].text);
      assert.equal(verifyEvent(r.structuredContent.event), true);
      assert.equal(r.structuredContent.event.content, "gm from sigil");
    });

    test("sign_solana_transaction verifies with ed25519", async () => {
      const pub = ed25519PublicKey(world.keys.sol);
      const message = solanaTransferMessage(pub);
      const r = await client.callTool({ name: "sign_solana_transaction",
        arguments: { key: "sol", message: message.toString("base64") } });
      assert.equal(r.isError, false, r.content[0].text);
      assert.equal(ed25519.verify(base58.decode(r.structuredContent.signature), message, pub), true);
    });

    test("explain dry-runs without signing", async () => {
      const r = await client.callTool({ name: "explain",
        arguments: { tool: "send_transaction", arguments: { from: trader, to: PAYEE, value: "0.1 ether" } } });
      assert.equal(r.isError, false, r.content[0].text);
      assert.equal(r.structuredContent.decision, "allow");
      assert.equal(r.structuredContent.rule, "small-payments");
      assert.ok(r.structuredContent.budgets.length >= 1);
    });

    test("a denied transfer is isError with the rule and reason", async () => {
      const r = await client.callTool({ name: "send_transaction", arguments: { from: trader, to: BLOCKED, value: "0.01 ether" } });
      assert.equal(r.isError, true);
      assert.equal(r.structuredContent.code, -32003);
      assert.equal(r.structuredContent.rule, "no-blocked");
      assert.equal(r.structuredContent.reason, "recipient is blocked");
      assert.match(r.content[0].text, /^Denied by rule no-blocked: recipient is blocked\./);
    });

    test("bad arguments are a tool error; an unknown tool is a protocol error", async () => {
      const r = await client.callTool({ name: "send_transaction", arguments: { to: PAYEE, amount: "1 ether" } });
      assert.equal(r.isError, true);
      assert.equal(r.structuredContent.code, -32602);
      await assert.rejects(client.callTool({ name: "no_such_tool", arguments: {} }), (e) => e.code === -32602);
    });

    test("an oversized argument is a tool error the model can act on, not a protocol error", async () => {
      // Over stdio the daemon's HTTP front refuses the body (413) before
      // JSON-RPC runs; over HTTP the MCP layer bounds it. Same answer.
      const r = await client.callTool({ name: "sign_message", arguments: { message: "x".repeat(900_000) } });
      assert.equal(r.isError, true, JSON.stringify(r).slice(0, 300));
      assert.equal(r.structuredContent.code, -32602, JSON.stringify(r.structuredContent).slice(0, 300));
    });

    test("an approval-held transfer: two approvers with TOTP, then approval_status returns the signed tx", async () => {
      const fees = await feeFields(world.hardhat.url, trader);
      const held = await client.callTool({ name: "sign_transaction",
        arguments: { from: trader, to: PAYEE, value: "1 ether", ...fees } });
      assert.equal(held.isError, true);
      assert.equal(held.structuredContent.code, -32002);
      const id = held.structuredContent.approval_id;
      assert.match(id, /^ap_/);
      assert.match(held.content[0].text, new RegExp(`Held for approval ${id}: 2 approvers must approve`));
      assert.match(held.content[0].text, /approval_status/);

      const pending = await client.callTool({ name: "approval_status", arguments: { approval_id: id } });
      assert.equal(pending.isError, false, pending.content[0].text);
      assert.equal(pending.structuredContent.state, "pending");

      for (const approver of ["alice", "bob"]) {
        const r = await world.sigil.rest("POST", `/v1/approvals/${id}/approve`, { totp: totpFromUri(world.totp[approver]) },
                                         { token: world.tokens[approver] });
        ok(r, `approve as ${approver}`);
      }

      const done = await client.callTool({ name: "approval_status", arguments: { approval_id: id } });
      assert.equal(done.isError, false, done.content[0].text);
      // The collecting poll carries the result; collecting spends the approval, so the daemon may
      // already call it "consumed".
      assert.ok(["approved", "consumed"].includes(done.structuredContent.state), done.content[0].text);
      const raw = done.structuredContent.result;
      assert.ok(raw, `no result in ${done.content[0].text}`);
      const tx = Transaction.from(raw);
      assert.equal(getAddress(tx.from), trader);
      assert.equal(tx.value, parseEther("1"));
      const hash = await ethRpc(world.hardhat.url, "eth_sendRawTransaction", [raw]);
      assert.equal((await waitReceipt(world.hardhat.url, hash)).status, "0x1");

      const again = await client.callTool({ name: "approval_status", arguments: { approval_id: id } });
      assert.equal(again.structuredContent.state, "consumed");
      assert.equal(again.structuredContent.result, undefined);
    });
  });
}

toolSuite("stdio (sigil mcp)", (world, token) => connectStdio(world, token));
toolSuite("streamable HTTP (/mcp)", async (world, token) => (await connectHttp(world, token)).client);

// ---------------------------------------------------------------- HTTP session specifics

describe("MCP /mcp sessions", { skip: SKIP }, () => {
  let world;
  before(async () => { world = await startWorld(); });
  after(async () => { if (world) await stopWorld(world); });

  test("a session id is issued, required, bound to its token, and ends with DELETE", async () => {
    const { client, transport } = await connectHttp(world, world.tokens["bot-1"]);
    const session = transport.sessionId;
    assert.match(session, /^[0-9a-f]{64}$/);
    await client.listTools();

    const post = (headers, body) => fetch(world.sigil.url + "/mcp", { method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
      body: JSON.stringify(body) });
    const list = { jsonrpc: "2.0", id: 9, method: "tools/list" };
    assert.equal((await post({ authorization: `Bearer ${world.tokens["bot-1"]}` }, list)).status, 400);
    assert.equal((await post({ authorization: `Bearer ${world.tokens["bot-1"]}`, "mcp-session-id": "f".repeat(64) }, list)).status, 404);
    assert.equal((await post({ authorization: `Bearer ${world.tokens["bot-2"]}`, "mcp-session-id": session }, list)).status, 404);
    assert.equal((await post({ authorization: "Bearer sgl_nope", "mcp-session-id": session }, list)).status, 401);
    const get = await fetch(world.sigil.url + "/mcp", { headers: { authorization: `Bearer ${world.tokens["bot-1"]}`,
      accept: "text/event-stream", "mcp-session-id": session } });
    assert.equal(get.status, 405);

    await transport.terminateSession();
    assert.equal((await post({ authorization: `Bearer ${world.tokens["bot-1"]}`, "mcp-session-id": session }, list)).status, 404);
    await client.close();
  });

  test("MCP-Protocol-Version, Accept q=0 and batches, through the daemon", async () => {
    const auth = { authorization: `Bearer ${world.tokens["bot-1"]}` };
    const post = (headers, body) => fetch(world.sigil.url + "/mcp", { method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...auth, ...headers },
      body: JSON.stringify(body) });
    const init = (version) => ({ jsonrpc: "2.0", id: 0, method: "initialize",
      params: { protocolVersion: version, capabilities: {}, clientInfo: { name: "raw", version: "1" } } });
    const ping = (id) => ({ jsonrpc: "2.0", id, method: "ping" });
    const initialized = { jsonrpc: "2.0", method: "notifications/initialized" };

    // A 2025-03-26 session: no header needed, batches accepted.
    const old = await post({}, init("2025-03-26"));
    assert.equal(old.status, 200);
    assert.equal((await old.json()).result.protocolVersion, "2025-03-26");
    const oldSession = { "mcp-session-id": old.headers.get("mcp-session-id") };
    const notes = await post(oldSession, [initialized]);
    assert.equal(notes.status, 202);
    const batch = await post(oldSession, [ping(1), { jsonrpc: "2.0", id: 2, method: "tools/list" }, initialized]);
    assert.equal(batch.status, 200);
    const answers = await batch.json();
    assert.deepEqual(answers.map((a) => a.id), [1, 2]);
    assert.equal(answers[1].result.tools.length, TOOL_NAMES.length);
    const withInit = await post(oldSession, [ping(3), init("2025-03-26")]);
    assert.equal(withInit.status, 400);
    assert.match((await withInit.json()).error.message, /initialize must not be part of a JSON-RPC batch/);

    // A 2025-06-18 session: batches refused; the header must be the negotiated version.
    const neu = await post({}, init("2025-06-18"));
    const newSession = { "mcp-session-id": neu.headers.get("mcp-session-id") };
    const refused = await post({ ...newSession, "mcp-protocol-version": "2025-06-18" }, [ping(1)]);
    assert.equal(refused.status, 400);
    assert.match((await refused.json()).error.message, /not part of MCP 2025-06-18/);
    assert.equal((await post({ ...newSession, "mcp-protocol-version": "2025-06-18" }, ping(4))).status, 200);
    assert.equal((await post(newSession, ping(5))).status, 200);
    const mismatch = await post({ ...newSession, "mcp-protocol-version": "2025-11-25" }, ping(6));
    assert.equal(mismatch.status, 400);
    assert.match((await mismatch.json()).error.message, /negotiated \(2025-06-18\)/);
    assert.equal((await post({ ...newSession, "mcp-protocol-version": "not-a-version" }, ping(7))).status, 400);

    // Accept: q=0 excludes JSON.
    assert.equal((await post({ ...newSession, accept: "application/json;q=0.0, text/event-stream" }, ping(8))).status, 406);
    assert.equal((await post({ ...newSession, accept: "application/json;q=0.5, text/event-stream" }, ping(9))).status, 200);

    // Accept split over two header lines (RFC 9110 lets a client do that;
    // fetch cannot, so a raw socket): both lines count.
    const rawPost = (headerLines, body) => new Promise((resolve, reject) => {
      const { hostname, port } = new URL(world.sigil.url);
      const socket = connect({ host: hostname, port: Number(port) }, () => {
        socket.end([`POST /mcp HTTP/1.1`, `Host: ${hostname}:${port}`, "Connection: close", ...headerLines,
                    `Content-Length: ${Buffer.byteLength(body)}`, "", body].join("\r\n"));
      });
      let answer = "";
      socket.on("data", (chunk) => { answer += chunk; });
      socket.on("end", () => resolve(answer));
      socket.on("error", reject);
    });
    const split = await rawPost([`Authorization: Bearer ${world.tokens["bot-1"]}`,
      `Mcp-Session-Id: ${newSession["mcp-session-id"]}`, "Content-Type: application/json",
      "Accept: text/event-stream", "Accept: application/json"], JSON.stringify(ping(10)));
    assert.match(split, /^HTTP\/1\.1 200 /, split.slice(0, 300));
  });
});

// ---------------------------------------------------------------- a scripted agent (no LLM)

describe("agent scenario: small payments within a budget", { skip: SKIP }, () => {
  let world;
  let client;
  before(async () => {
    world = await startWorld();
    client = await connectStdio(world, world.tokens["bot-2"]);
  });
  after(async () => {
    await client?.close();
    if (world) await stopWorld(world);
  });

  test("pays three times, is refused for budget, asks explain for the largest amount, pays that", async () => {
    const call = (name, args) => client.callTool({ name, arguments: args });

    // The agent learns its account and budget.
    const accounts = await call("list_accounts", {});
    assert.equal(accounts.structuredContent.accounts.length, 1);
    const me = getAddress(accounts.structuredContent.accounts[0].address);
    const before = await call("get_budget", {});
    assert.equal(before.isError, false, before.content[0].text);

    // Three payments of 0.3 ether: all allowed (0.9 of 1 ether).
    for (let i = 0; i < 3; i++) {
      const r = await call("send_transaction", { to: PAYEE, value: "0.3 ether" });
      assert.equal(r.isError, false, `payment ${i + 1}: ${r.content[0].text}`);
      assert.equal((await waitReceipt(world.hardhat.url, r.structuredContent.tx_hash)).status, "0x1");
    }

    // The fourth is refused: the 24h budget has 0.1 ether left.
    const refused = await call("send_transaction", { to: PAYEE, value: "0.3 ether" });
    assert.equal(refused.isError, true);
    assert.equal(refused.structuredContent.code, -32003);
    assert.equal(refused.structuredContent.rule, "bot2-allowance");
    assert.ok(refused.structuredContent.reason, "a refusal carries a reason");
    assert.match(refused.content[0].text, /At most 0\.1 ether remains in the 24h window/);

    // The agent reads the reason and asks explain what it can still pay.
    const explained = await call("explain", { tool: "send_transaction", arguments: { from: me, to: PAYEE, value: "0.3 ether" } });
    assert.equal(explained.isError, false, explained.content[0].text);
    assert.equal(explained.structuredContent.decision, "deny");
    const largest = explained.structuredContent.largest_allowed_value;
    assert.equal(largest, parseEther("0.1").toString());

    // It pays exactly that, and succeeds.
    const paid = await call("send_transaction", { to: PAYEE, value: largest });
    assert.equal(paid.isError, false, paid.content[0].text);
    assert.equal((await waitReceipt(world.hardhat.url, paid.structuredContent.tx_hash)).status, "0x1");

    // Nothing is left now.
    const after = await call("explain", { tool: "send_transaction", arguments: { from: me, to: PAYEE, value: "1 wei" } });
    assert.equal(after.structuredContent.decision, "deny");
    assert.equal(after.structuredContent.largest_allowed_value, "0");
  });
});
