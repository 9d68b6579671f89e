// Edges of the HTTP surface against a real daemon:
//  * HEAD is GET without the body (the net layer hands it over as GET): a
//    HEAD of an approval by its agent collects nothing, so the signature is
//    still there for the agent's next poll;
//  * JSON-RPC ids come back exactly as sent (JSON-RPC 2.0 §5), numbers past
//    64 bits and past a double included, with a token and without;
//  * MCP GET, DELETE and notifications are charged to the token's rate;
//  * an agent gets the same answer for a key that does not exist as for a key
//    outside its scope (so it cannot probe which key names exist).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import http from "node:http";
import { SigilServer, SIGIL_BIN } from "./lib/harness.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;

const policy = {
  version: 1,
  rules: [
    { id: "held", effect: "require_approval", agents: ["bot-1"], keys: ["trader"], match: { kind: "eth_message" },
      approval: { quorum: 1, role: "approver", expires: "1h" } },
  ],
};

// One request with exactly these bytes as the body; resolves with status,
// headers and the raw text (JSON.parse would round big numbers).
function request(port, method, path, { token, body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const length = body === undefined ? {} : { "content-length": Buffer.byteLength(body) };
    const req = http.request({ host: "127.0.0.1", port, method, path,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), "content-type": "application/json", ...length, ...headers } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe("HTTP edges: HEAD, JSON-RPC ids, MCP charges, key probing", { skip, timeout: 90000 }, () => {
  let sigil;
  const tok = {};
  let trader;
  const send = (method, path, token, body, headers) => request(sigil.port, method, path, { token, body, headers });
  const rpc = async (token, method, params) => JSON.parse((await send("POST", "/rpc", token, JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }))).text);

  before(async () => {
    sigil = await new SigilServer().start();
    trader = (await sigil.rest("POST", "/v1/keys", { name: "trader" })).json.address;
    assert.ok(trader);
    assert.equal((await sigil.rest("POST", "/v1/keys", { name: "vault" })).status, 201);
    assert.equal((await sigil.rest("POST", "/v1/policy", { policy })).status, 200);
    const issue = async (body) => {
      const r = await sigil.rest("POST", "/v1/tokens", body);
      assert.equal(r.status, 201, r.text);
      return r.json.token;
    };
    tok.bot1 = await issue({ role: "agent", name: "bot-1", keys: ["trader"] });
    tok.approver = await issue({ role: "approver", name: "alice" });
    tok.slow = await issue({ role: "agent", name: "slow-bot", keys: ["trader"], rate: "3/m" });
  });
  after(async () => {
    if (sigil) await sigil.stop();
  });

  test("HEAD of an approved request by its agent collects nothing; the agent's next poll gets the signature", async () => {
    const held = await rpc(tok.bot1, "personal_sign", ["0x6869", trader]);
    assert.equal(held.error?.code, -32002, JSON.stringify(held));
    const id = held.error.data.approval_id;
    const approved = await send("POST", `/v1/approvals/${id}/approve`, tok.approver, "{}");
    assert.equal(approved.status, 200, approved.text);
    const audit = async () => (await sigil.rest("GET", "/v1/audit/verify")).json.records;
    const records = await audit();

    const head = await send("HEAD", `/v1/approvals/${id}`, tok.bot1);
    assert.equal(head.status, 200);
    assert.equal(head.text, "");
    const get = await send("GET", `/v1/approvals/${id}`, tok.bot1);
    assert.equal(JSON.parse(get.text).state, "approved", get.text);
    assert.equal(await audit(), records, "HEAD and GET wrote no audit record");

    const collected = await rpc(tok.bot1, "sigil_approvalStatus", [id]);
    assert.equal(collected.result?.state, "consumed", JSON.stringify(collected));
    assert.match(collected.result.result, /^0x[0-9a-f]{130}$/);
    // Probes keep HEAD; /mcp and /rpc say what they take.
    for (const path of ["/healthz", "/readyz", "/metrics"]) {
      assert.equal((await send("HEAD", path, sigil.adminToken)).status, 200, path);
    }
    const mcp = await send("HEAD", "/mcp", tok.bot1);
    assert.equal(mcp.status, 405);
    assert.equal(mcp.headers.allow, "POST, DELETE");
    assert.equal((await send("HEAD", "/rpc", tok.bot1)).headers.allow, "POST");
  });

  test("JSON-RPC ids come back exactly as sent, past 64 bits and past a double too", async () => {
    for (const id of ["123456789012345678901234567890", "1e400", "1E2", "-0", "2.50", "18446744073709551616"]) {
      const body = `{"jsonrpc":"2.0","id":${id},"method":"sigil_ping"}`;
      const ok = await send("POST", "/rpc", tok.bot1, body);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.text, `{"id":${id},"jsonrpc":"2.0","result":{}}`);
      // A refusal and a batch carry it the same way.
      const batch = await send("POST", "/rpc", tok.bot1, `[${body},{"jsonrpc":"2.0","id":${id},"method":"no_such"}]`);
      assert.ok(batch.text.startsWith(`[{"id":${id},"jsonrpc":"2.0","result":{}},{"id":${id},"error":{"code":-32601,`), batch.text);
      // Without a valid token: -32001, still with the caller's id.
      const refused = await send("POST", "/rpc", "sgl_nope", body);
      assert.equal(refused.status, 401);
      assert.ok(refused.text.startsWith(`{"id":${id},"error":{"code":-32001,`), refused.text);
    }
    const long = "9".repeat(101);
    const tooLong = JSON.parse((await send("POST", "/rpc", tok.bot1, `{"jsonrpc":"2.0","id":${long},"method":"sigil_ping"}`)).text);
    assert.equal(tooLong.error.code, -32600);
    assert.equal(tooLong.id, null);
  });

  test("MCP GET, DELETE and notifications are charged to the token's rate; over it they are 429 -32005", async () => {
    const headers = { accept: "application/json, text/event-stream" };
    const init = await send("POST", "/mcp", tok.slow, JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "edges", version: "1" } } }), headers);
    assert.equal(init.status, 200, init.text);
    const session = { ...headers, "mcp-session-id": init.headers["mcp-session-id"], "mcp-protocol-version": "2025-06-18" };
    const note = JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" });
    // 3 a minute: initialize, the notification, the GET.
    assert.equal((await send("POST", "/mcp", tok.slow, note, session)).status, 202);
    assert.equal((await send("GET", "/mcp", tok.slow, undefined, session)).status, 405);
    for (const [method, body] of [["GET", undefined], ["DELETE", undefined], ["POST", note]]) {
      const r = await send(method, "/mcp", tok.slow, body, session);
      assert.equal(r.status, 429, `${method}: ${r.text}`);
      assert.equal(JSON.parse(r.text).error.code, -32005, r.text);
      assert.ok(Number(r.headers["retry-after"]) >= 1, JSON.stringify(r.headers));
    }
    // The same bucket as /rpc.
    assert.equal((await rpc(tok.slow, "sigil_ping", [])).error?.code, -32005);
  });

  test("an agent cannot tell a key outside its scope from a key that does not exist", async () => {
    const same = (a, b, where) => assert.equal(a.replaceAll("vault", "K"), b.replaceAll("ghost", "K"), where);
    for (const [method, params] of [["personal_sign", (k) => ["0x6869", k]], ["sigil_signDigest", (k) => [k, "0x" + "11".repeat(32)]],
                                    ["sigil_explain", (k) => ["personal_sign", "0x6869", k]]]) {
      const out = await rpc(tok.bot1, method, params("vault"));
      const none = await rpc(tok.bot1, method, params("ghost"));
      assert.equal(out.error?.code, -32001, `${method}: ${JSON.stringify(out)}`);
      same(JSON.stringify(out), JSON.stringify(none), method);
    }
    for (const [method, path, body] of [["GET", "/v1/keys/{}", undefined],
                                        ["POST", "/v1/policy/explain", { kind: "eth_tx", key: "{}", tx: { to: trader, value: "0x1" } }],
                                        ["POST", "/v1/policy/explain", { kind: "eth_message", key: "{}", message: "hi" }]]) {
      const at = (k) => send(method, path.replace("{}", k), tok.bot1, body && JSON.stringify(body).replace("{}", k));
      const out = await at("vault");
      const none = await at("ghost");
      assert.equal(out.status, 403, `${method} ${path}: ${out.text}`);
      assert.equal(none.status, 403, `${method} ${path}: ${none.text}`);
      same(out.text, none.text, `${method} ${path}`);
      assert.doesNotMatch(out.text, /0x[0-9a-fA-F]{40}/, "no address of a key out of scope");
    }
    // Nor another key's old (rotated) address from an address never used.
    const vaultOld = (await sigil.rest("GET", "/v1/keys/vault")).json.address;
    assert.match(vaultOld, /^0x[0-9a-fA-F]{40}$/);
    assert.equal((await sigil.rest("POST", "/v1/keys/vault/rotate", {})).status, 200);
    const never = "0x" + "2".repeat(40);
    for (const [method, path, body] of [["GET", "/v1/keys/{}", undefined],
                                        ["POST", "/v1/policy/explain", { kind: "eth_tx", key: "{}", tx: { to: trader, value: "0x1" } }],
                                        ["POST", "/v1/policy/explain", { kind: "eth_message", key: "{}", message: "hi" }]]) {
      const at = (k) => send(method, path.replace("{}", k), tok.bot1, body && JSON.stringify(body).replace("{}", k));
      const old = await at(vaultOld);
      const none = await at(never);
      assert.equal(old.status, 403, `${method} ${path}: ${old.text}`);
      assert.equal(old.text.replaceAll(vaultOld, "A"), none.text.replaceAll(never, "A"), `${method} ${path}`);
    }
    // Admins keep the precise answer.
    assert.equal((await send("GET", "/v1/keys/ghost", sigil.adminToken)).status, 404);
    assert.equal((await rpc(sigil.adminToken, "personal_sign", ["0x6869", "ghost"])).error?.code, -32602);
  });
});
