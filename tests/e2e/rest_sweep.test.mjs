// An acceptance-style sweep of the HTTP surface (INTERFACE.md, doc/api.md),
// beyond bad_input / hostile_input / authz: every body-taking /v1 route with
// wrong JSON types, non-object bodies, empty and over-long strings; unknown
// and odd ids in paths (/, .., %2F, NUL, non-UTF-8); malformed and repeated
// query parameters; agent suspension of unknown names; what sigil_getPolicy
// shows an agent; MCP requests charged to the token's rate; MCP id types and
// notifications. Each refusal is a 4xx with a JSON error sentence, never a
// 500, the daemon stays up, and nothing is signed or changed.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import http from "node:http";
import { SigilServer, SIGIL_BIN } from "./lib/harness.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;

const policy = {
  version: 1,
  lists: {
    bot1_payees: ["0x1111111111111111111111111111111111111111"],
    bot2_payees: ["0x2222222222222222222222222222222222222222"],
    blocked: ["0x000000000000000000000000000000000000dEaD"],
    vault_keys: ["vault"],
  },
  rules: [
    { id: "no-blocked", effect: "deny", match: { kind: "eth_tx", to: { in: "@blocked" } } },
    { id: "bot1-pay", effect: "allow", agents: ["bot-1"], match: { kind: "eth_tx", chain_id: [31337], to: { in: "@bot1_payees" } } },
    { id: "bot2-pay", effect: "allow", agents: ["bot-2"], match: { kind: "eth_tx", chain_id: [31337], to: { in: "@bot2_payees" } } },
    { id: "vault-msg", effect: "allow", keys: "@vault_keys", match: { kind: "eth_message" } },
    { id: "msg", effect: "allow", agents: ["bot-1"], match: { kind: "eth_message" } },
  ],
};

// A request with the path sent exactly as given (fetch would normalise
// "..", "%2e" and friends before the server saw them).
function rawRequest(port, method, path, { token, body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    // Content-Length always: node frames a DELETE body it is not told the
    // length of with nothing at all.
    const length = body === undefined ? {} : { "content-length": Buffer.byteLength(body) };
    const req = http.request({ host: "127.0.0.1", port, method, path,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), "content-type": "application/json", ...length, ...headers } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json;
        try { json = JSON.parse(text); } catch {}
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// A refusal as doc/api.md describes it: a 4xx status and {"error": "sentence"}.
function assertRefused(r, where, statuses = null) {
  assert.ok(r.status >= 400 && r.status < 500, `${where}: want 4xx, got ${r.status} ${r.text.slice(0, 300)}`);
  if (statuses) assert.ok(statuses.includes(r.status), `${where}: want ${statuses}, got ${r.status} ${r.text.slice(0, 300)}`);
  assert.equal(typeof r.json?.error, "string", `${where}: JSON error body: ${r.text.slice(0, 300)}`);
  assert.ok(r.json.error.length > 5, `${where}: a sentence: ${r.text.slice(0, 300)}`);
}

describe("REST /v1 and JSON-RPC conformance sweep", { skip, timeout: 90000 }, () => {
  let sigil;
  const tok = {};
  let trader;

  const signed = async () => {
    const text = await fetch(sigil.url + "/metrics", { headers: { authorization: `Bearer ${sigil.adminToken}` } }).then((r) => r.text());
    let n = 0;
    for (const line of text.split("\n")) {
      if (line.startsWith("sigil_requests_total{") && line.includes('decision="signed"')) n += Number(line.split(" ").pop());
    }
    return n;
  };
  // Everything a refused request must leave as it was.
  const state = async () => {
    const keys = (await sigil.rest("GET", "/v1/keys")).json.keys.map((k) => `${k.name}@${k.version}`).sort();
    const tokens = (await sigil.rest("GET", "/v1/tokens")).json.tokens.map((t) => `${t.name}:${t.revoked}:${t.totp}`).sort();
    const pol = (await sigil.rest("GET", "/v1/policy")).json.version;
    const lock = (await sigil.rest("GET", "/v1/lockdown")).json;
    return { keys, tokens, pol, lock, signed: await signed() };
  };
  const unchanged = async (fn) => {
    const before = await state();
    await fn();
    assert.deepEqual(await state(), before, "a refused request changed nothing");
    assert.equal((await fetch(sigil.url + "/healthz")).status, 200);
  };
  const rest = (method, path, body, token = sigil.adminToken) =>
    rawRequest(sigil.port, method, path, { token, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
  const rpc = async (method, params, token) => {
    const r = await rest("POST", "/rpc", { jsonrpc: "2.0", id: 1, method, params }, token);
    return r.json;
  };

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
    tok.bot2 = await issue({ role: "agent", name: "bot-2", keys: ["vault"] });
    tok.operator = await issue({ role: "operator", name: "ops-1" });
    tok.auditor = await issue({ role: "auditor", name: "aud-1" });
    tok.slow = await issue({ role: "agent", name: "slow-bot", keys: ["trader"], rate: "4/m" });
  });
  after(async () => {
    if (sigil) await sigil.stop();
  });

  test("wrong JSON types, non-object bodies, empty and over-long strings: 4xx with a JSON error, nothing changes", async () => {
    // [path, method, text fields the route reads]
    const routes = [
      ["/v1/keys", "POST", ["name", "type", "backend"]],
      ["/v1/policy", "POST", ["document_text"]],
      ["/v1/policy", "PUT", ["document_text"]],
      ["/v1/policy/explain", "POST", ["key", "kind", "message", "message_base64"]],
      ["/v1/tokens", "POST", ["role", "name", "expires", "rate"]],
      ["/v1/approvals/none/approve", "POST", ["totp"]],
      ["/v1/approvals/none/reject", "POST", ["reason"]],
      ["/v1/lockdown", "POST", ["reason", "totp"]],
      ["/v1/agents/bot-1/suspend", "POST", ["reason"]],
      ["/v1/agents/bot-1/resume", "POST", ["totp"]],
      ["/v1/attest", "POST", ["nonce"]],
      ["/v1/backup", "POST", ["passphrase"]],
      ["/v1/keys/import", "POST", ["name", "type", "private_key"]],
    ];
    // What a valid request would carry besides the field under test, so that
    // only the field's type can be the reason for the refusal.
    const base = {
      "/v1/keys": { name: "sweep-key" },
      "/v1/tokens": { role: "agent", name: "sweep-token" },
      "/v1/policy/explain": { key: "trader", kind: "eth_message", message: "hi" },
      "/v1/lockdown": { on: true, reason: "sweep" },
    };
    const wrong = [42, -1, 1.5, true, false, [], ["x"], {}, { a: "b" }];
    await unchanged(async () => {
      for (const [path, method, fields] of routes) {
        for (const field of fields) {
          for (const value of wrong) {
            const body = { ...(base[path] || {}), [field]: value };
            const r = await rest(method, path, body);
            assertRefused(r, `${method} ${path} ${field}=${JSON.stringify(value)}`);
            // The import route is off in dev (403 before reading the body).
            if (path !== "/v1/keys/import") assert.match(r.json.error, new RegExp(field), `${path} names ${field}: ${r.text}`);
          }
        }
        // Bodies that are not an object, or not JSON.
        for (const body of ["null", "[]", "[{}]", '"text"', "42", "true", "{", "{}}", '{"a":1,"a":2}', "\u00ff"]) {
          const r = await rest(method, path, body);
          assertRefused(r, `${method} ${path} body ${JSON.stringify(body)}`);
        }
      }
      // Over-long and empty strings where a value is required.
      const long = "x".repeat(100 * 1024);
      for (const [method, path, body] of [
        ["POST", "/v1/keys", { name: long }],
        ["POST", "/v1/keys", { name: "" }],
        ["POST", "/v1/keys", { name: "sweep", type: long }],
        ["POST", "/v1/tokens", { role: "agent", name: long }],
        ["POST", "/v1/tokens", { role: "", name: "sweep" }],
        ["POST", "/v1/tokens", { role: long }],
        ["POST", "/v1/tokens", { role: "agent", name: "sweep", keys: [long] }],
        ["POST", "/v1/tokens", { role: "agent", name: "sweep", keys: "trader" }],
        ["POST", "/v1/tokens", { role: "agent", name: "sweep", keys: [7] }],
        ["POST", "/v1/tokens", { role: "agent", name: "sweep", rate: long }],
        ["POST", "/v1/lockdown", { on: true, reason: long }],
        ["POST", "/v1/lockdown", { on: false, totp: long }],
        ["POST", "/v1/lockdown", { on: false }],
        ["POST", "/v1/agents/bot-1/suspend", { reason: long }],
        ["POST", "/v1/attest", { nonce: long }],
        ["POST", "/v1/attest", { nonce: "" }],
        ["POST", "/v1/attest", { nonce: "zz" }],
        ["POST", "/v1/policy", { document_text: long }],
        ["POST", "/v1/policy", { document_text: "" }],
        ["POST", "/v1/policy", { policy: 5 }],
        ["POST", "/v1/policy", { policy: null }],
        ["POST", "/v1/policy", {}],
        ["POST", "/v1/policy/explain", { key: long, kind: "eth_message", message: "hi" }],
        ["POST", "/v1/policy/explain", { key: "trader", kind: long }],
        ["POST", "/v1/policy/explain", { key: "trader", tx: [] }],
        ["POST", "/v1/policy/explain", { key: "trader", tx: "[1" }],
        ["POST", "/v1/policy/explain", { key: "trader", kind: "eth_typed_data", typed_data: 5 }],
        ["POST", "/v1/policy/explain", { key: "trader", kind: "nostr_event", event: [] }],
        ["POST", "/v1/policy/explain", { key: "trader", kind: "solana_tx", message_base64: "!!" }],
        ["POST", "/v1/approvals/none/approve", { totp: long }],
        ["POST", "/v1/approvals/none/reject", { reason: long }],
        ["POST", "/v1/backup", { shares: "2/3" }],
        ["POST", "/v1/backup", { shares: { m: "x", n: [] } }],
        ["POST", "/v1/backup", { shares: { m: 3, n: 2 } }],
        ["POST", "/v1/backup", { passphrase: "" }],
      ]) {
        assertRefused(await rest(method, path, body), `${method} ${path} ${JSON.stringify(body).slice(0, 80)}`);
      }
    });
  });

  test("a body member the route does not read is 400 naming it: a typo must not issue a token that never expires", async () => {
    await unchanged(async () => {
      for (const [body, field] of [
        [{ role: "agent", name: "typo-1", keys: ["trader"], expire: "1h" }, "expire"],
        [{ role: "agent", name: "typo-2", keys: ["trader"], rates: "1/s" }, "rates"],
        [{ role: "agent", name: "typo-3", key: ["trader"] }, "key"],
        [{ role: "agent", name: "typo-4", Expires: "1h" }, "Expires"],
      ]) {
        const r = await rest("POST", "/v1/tokens", body);
        assertRefused(r, `POST /v1/tokens ${JSON.stringify(body)}`, [400]);
        assert.match(r.json.error, new RegExp(`'${field}'`), r.text);
        assert.match(r.json.error, /expires/, "the message lists what the route takes");
      }
      // Every route with a body, with its documented members plus one it does not read.
      for (const [method, path, body] of [
        ["POST", "/v1/keys", { name: "typo-key", typ: "ed25519" }],
        ["POST", "/v1/keys/trader/rotate", { reason: "x" }],
        ["POST", "/v1/policy/explain", { key: "trader", kind: "eth_message", message: "hi", chain_id: 1 }],
        ["POST", "/v1/tokens/bot-1/totp", { secret: "x" }],
        ["POST", "/v1/approvals/ap_0123456789abcdef/approve", { totp: "123456", code: "1" }],
        ["POST", "/v1/approvals/ap_0123456789abcdef/reject", { reason: "no", why: "x" }],
        ["POST", "/v1/lockdown", { on: true, reson: "typo" }],
        ["POST", "/v1/lockdown", { off: true }],
        ["POST", "/v1/agents/bot-1/suspend", { reason: "x", until: "1h" }],
        ["POST", "/v1/agents/bot-1/resume", { totp: "123456", force: true }],
        ["POST", "/v1/attest", { nonce: "00".repeat(32), format: "x" }],
        ["POST", "/v1/backup", { passphrase: "a long backup passphrase", share: { m: 2, n: 3 } }],
        ["DELETE", "/v1/tokens/bot-1", { really: true }],
      ]) {
        const r = await rest(method, path, body);
        assertRefused(r, `${method} ${path} ${JSON.stringify(body)}`, [400]);
        assert.match(r.json.error, /unknown field/, r.text);
      }
      // Shares are whole numbers: 2.9 was read as 2.
      for (const shares of [{ m: 2.9, n: 3 }, { m: true, n: 3 }, { m: "2", n: "3" }, { m: 2, n: 3, k: 1 }, [2, 3],
                            { m: 4294967298, n: 4294967299 }]) {  // read as 2 of 3 by an int
        assertRefused(await rest("POST", "/v1/backup", { shares }), `backup shares ${JSON.stringify(shares)}`, [400]);
      }
    });
    // The documented members still work (null is absent), also where the
    // server wipes a member afterwards (a null passphrase threw after the
    // backup was made).
    const backup = await rest("POST", "/v1/backup", { passphrase: null, shares: { m: 2, n: 3 } });
    assert.equal(backup.status, 200, backup.text);
    assert.equal(backup.json.shares.length, 3);
    const ok = await rest("POST", "/v1/tokens", { role: "agent", name: "typo-ok", keys: ["trader"], expires: "1h", rate: null });
    assert.equal(ok.status, 201, ok.text);
    assert.ok(ok.json.expires_at);
    assert.equal((await rest("DELETE", "/v1/tokens/typo-ok")).status, 200);
  });

  test("/healthz, /readyz and /metrics serve GET and HEAD only: another method is 405 with Allow", async () => {
    for (const path of ["/healthz", "/readyz", "/metrics"]) {
      for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
        const r = await rest(method, path, "{}");
        assert.equal(r.status, 405, `${method} ${path}: ${r.status} ${r.text}`);
        assert.equal(r.headers.allow, "GET, HEAD", `${method} ${path}`);
        assert.equal(r.json?.allow, "GET, HEAD");
      }
      assert.equal((await rest("HEAD", path)).status, 200, `HEAD ${path}`);
      assert.equal((await rest("GET", path)).status, 200, `GET ${path}`);
    }
  });

  test("unknown ids and odd path segments (/, .., %2F, NUL, non-UTF-8, long) are 4xx, never 500 or 200", async () => {
    const ids = ["nope", "%2F", "a%2Fb", "..", "%2e%2e", "..%2F..%2Fetc%2Fpasswd", "%00", "a%00b", "%FF%FE", "%C3%28",
                 "%E2%80%AE", "x".repeat(3000), "%", "%zz", "a+b", "%20", "*"];
    const routes = [
      ["GET", "/v1/keys/{}"],
      ["POST", "/v1/keys/{}/rotate"],
      ["DELETE", "/v1/tokens/{}"],
      ["POST", "/v1/tokens/{}/totp"],
      ["GET", "/v1/approvals/{}"],
      ["POST", "/v1/approvals/{}/approve"],
      ["POST", "/v1/approvals/{}/reject"],
      ["POST", "/v1/agents/{}/suspend"],
      ["POST", "/v1/agents/{}/resume"],
    ];
    await unchanged(async () => {
      for (const [method, shape] of routes) {
        for (const id of ids) {
          const path = shape.replace("{}", id);
          const r = await rest(method, path, method === "POST" ? "{}" : undefined);
          // ".." and "*" segments are plain names to the router (no key has them).
          assertRefused(r, `${method} ${path.slice(0, 80)}`, [400, 404, 409]);
          assert.ok(!r.text.includes("\u0000"), "no raw NUL echoed");
        }
      }
      // Unknown but well-formed names are 404 (not 403, 409 or 200); a
      // malformed approval id is 400.
      const unknownApproval = "ap_0123456789abcdef";
      for (const [method, path] of [["GET", "/v1/keys/nope"], ["POST", "/v1/keys/nope/rotate"], ["DELETE", "/v1/tokens/nope"],
                                    ["POST", "/v1/tokens/nope/totp"], ["GET", `/v1/approvals/${unknownApproval}`],
                                    ["POST", `/v1/approvals/${unknownApproval}/approve`],
                                    ["POST", `/v1/approvals/${unknownApproval}/reject`],
                                    ["POST", "/v1/agents/nope/suspend"], ["POST", "/v1/agents/nope/resume"]]) {
        assertRefused(await rest(method, path, method === "POST" ? "{}" : undefined), `${method} ${path}`, [404]);
      }
      // Dot segments the client did not resolve are not resolved by the server either.
      for (const path of ["/v1/keys/../tokens", "/v1/keys/./trader/rotate/..", "/v1/tokens/../../v1/tokens", "/v1//keys//trader/rotate/x"]) {
        assertRefused(await rest("GET", path), `GET ${path}`, [404, 405]);
      }
    });
    // An agent asking for another's key by odd spellings learns nothing more than 403/404.
    for (const id of ["vault", "VAULT", "vault%00", "vault%20", "%76ault"]) {
      const r = await rest("GET", `/v1/keys/${id}`, undefined, tok.bot1);
      assertRefused(r, `agent GET /v1/keys/${id}`, [403, 404]);
    }
  });

  test("query parameters: malformed, signed, fractional, overflowing or repeated numbers are 400; valid ones work", async () => {
    assert.equal((await rest("GET", "/v1/audit/proof?seq=0")).status, 200);
    assert.equal((await rest("GET", "/v1/audit/report?since=0&until=99999999999&format=json")).status, 200);
    const bad = [
      "/v1/audit/proof", "/v1/audit/proof?seq=", "/v1/audit/proof?seq=abc", "/v1/audit/proof?seq=-1", "/v1/audit/proof?seq=1abc",
      "/v1/audit/proof?seq=%201", "/v1/audit/proof?seq=+1", "/v1/audit/proof?seq=0x1", "/v1/audit/proof?seq=1.0",
      "/v1/audit/proof?seq=1e2", "/v1/audit/proof?seq=99999999999999999999999", "/v1/audit/proof?seq=18446744073709551616",
      "/v1/audit/proof?seq=0&seq=1", "/v1/audit/proof?seq=0&size=-1", "/v1/audit/proof?seq=0&size=0",
      "/v1/audit/proof?from=-1&to=1", "/v1/audit/proof?from=1&to=1&to=2", "/v1/audit/proof?from=5&to=1",
      "/v1/audit/proof?seq=18446744073709551615",
      "/v1/audit/report?since=-5", "/v1/audit/report?since=1e3", "/v1/audit/report?until=18446744073709551615",
      "/v1/audit/report?since=1&since=2", "/v1/audit/report?agent=a&agent=b", "/v1/audit/report?format=csv&format=json",
      "/v1/audit/report?format=JSON", "/v1/audit/report?format=", "/v1/audit/report?fo%72mat=xml",
      "/rpc?signed_tx=raw&signed_tx=object",
    ];
    await unchanged(async () => {
      for (const path of bad) {
        const r = path.startsWith("/rpc")
          ? await rest("POST", path, { jsonrpc: "2.0", id: 1, method: "eth_chainId" })
          : await rest("GET", path);
        if (path.endsWith("format=")) {
          assert.equal(r.status, 200, `${path}: an empty format is the default`);
          continue;
        }
        assertRefused(r, `GET ${path}`, [400, 404]);
      }
    });
  });

  test("suspending or resuming an agent name no token has is 404 and suspends nobody", async () => {
    await unchanged(async () => {
      for (const token of [sigil.adminToken, tok.operator]) {
        const r = await rest("POST", "/v1/agents/bot-l/suspend", { reason: "typo of bot-1" }, token);
        assertRefused(r, "suspend a typo", [404]);
        assert.match(r.json.error, /bot-l/);
      }
      assertRefused(await rest("POST", "/v1/agents/ghost/resume", { totp: "000000" }), "resume unknown", [404]);
      // A token that may not suspend learns nothing about which names exist.
      assertRefused(await rest("POST", "/v1/agents/ghost/suspend", {}, tok.bot1), "agent suspends", [403]);
      assertRefused(await rest("POST", "/v1/agents/bot-2/suspend", {}, tok.bot1), "agent suspends", [403]);
      assertRefused(await rest("POST", "/v1/agents/ghost/suspend", {}, tok.auditor), "auditor suspends", [403]);
    });
    // The real name works, and the agent is then refused.
    const s = await rest("POST", "/v1/agents/bot-2/suspend", { reason: "sweep" }, tok.operator);
    assert.equal(s.status, 200, s.text);
    assert.deepEqual((await sigil.rest("GET", "/v1/lockdown")).json.suspended_agents.map((a) => a.agent), ["bot-2"]);
    const refused = await rpc("personal_sign", ["0x68", "vault"], tok.bot2);
    assert.equal(refused.error?.code, -32004, JSON.stringify(refused));
    // Resuming needs an admin's TOTP (none enrolled): refused, still suspended.
    assertRefused(await rest("POST", "/v1/agents/bot-2/resume", { totp: "000000" }), "resume without TOTP");
    assert.equal((await sigil.rest("GET", "/v1/lockdown")).json.suspended_agents.length, 1);
  });

  test("sigil_getPolicy shows an agent only its rules and the lists they reference; admins see everything", async () => {
    const mine = (await rpc("sigil_getPolicy", [], tok.bot1)).result;
    assert.deepEqual(mine.rules.map((r) => r.id), ["no-blocked", "bot1-pay", "msg"]);
    assert.deepEqual(Object.keys(mine.lists).sort(), ["blocked", "bot1_payees"]);
    assert.doesNotMatch(JSON.stringify(mine), /2222222222|bot2|vault/);
    const theirs = (await rpc("sigil_getPolicy", [], tok.bot2)).result;
    assert.deepEqual(theirs.rules.map((r) => r.id), ["no-blocked", "bot2-pay", "vault-msg"]);
    assert.deepEqual(Object.keys(theirs.lists).sort(), ["blocked", "bot2_payees", "vault_keys"]);
    const all = (await rpc("sigil_getPolicy", [])).result;
    assert.deepEqual(all.rules.map((r) => r.id), policy.rules.map((r) => r.id));
    assert.deepEqual(all.lists, policy.lists);
    const op = (await rpc("sigil_getPolicy", [], tok.operator)).result;
    assert.deepEqual(op.lists, policy.lists);
  });

  // MCP over HTTP: a session for `token`, then raw messages.
  const mcpSession = async (token, version = "2025-03-26") => {
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" };
    const init = await fetch(sigil.url + "/mcp", { method: "POST", headers,
      body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: version, capabilities: {}, clientInfo: { name: "sweep", version: "1" } } }) });
    const initBody = await init.json();
    const session = init.headers.get("mcp-session-id");
    const send = async (message) => {
      const r = await fetch(sigil.url + "/mcp", { method: "POST", headers: { ...headers, ...(session ? { "mcp-session-id": session } : {}) },
        body: typeof message === "string" ? message : JSON.stringify(message) });
      const text = await r.text();
      let json;
      try { json = JSON.parse(text); } catch {}
      return { status: r.status, text, json };
    };
    return { init: initBody, session, send };
  };

  test("MCP ping and tools/list are charged to the token's rate like /rpc calls", async () => {
    // slow-bot: 4 requests a minute. initialize is the first.
    const { init, send } = await mcpSession(tok.slow);
    assert.ok(init.result, JSON.stringify(init));
    const answers = [];
    for (let i = 1; i <= 4; i++) answers.push((await send({ jsonrpc: "2.0", id: i, method: i % 2 ? "ping" : "tools/list" })).json);
    assert.ok(answers[0].result && answers[1].result && answers[2].result, JSON.stringify(answers.slice(0, 3)));
    assert.equal(answers[3].error?.code, -32005, `the fifth request of a 4/m token is rate limited: ${JSON.stringify(answers[3])}`);
    assert.ok(answers[3].error.data.retry_after_ms > 0);
    assert.equal(answers[3].id, 4);
    // The same bucket as /rpc.
    assert.equal((await rpc("eth_chainId", [], tok.slow)).error?.code, -32005);
  });

  test("sigil_ping answers {} and needs a token", async () => {
    assert.deepEqual((await rpc("sigil_ping", [], tok.bot1)).result, {});
    const r = await rest("POST", "/rpc", { jsonrpc: "2.0", id: 1, method: "sigil_ping" }, "sgl_nope");
    assert.equal(r.status, 401);
    assert.equal(r.json.error.code, -32001);
  });

  test("MCP ids, notifications and batches: a tools/call notification signs nothing; odd ids are -32600", async () => {
    const { send } = await mcpSession(tok.bot1);
    const sign = { name: "sign_message", arguments: { address: trader, message: "hello" } };
    const before = await signed();
    // A notification is never answered, so it must not sign either.
    const note = await send({ jsonrpc: "2.0", method: "tools/call", params: sign });
    assert.equal(note.status, 202, note.text);
    const noteBatch = await send([{ jsonrpc: "2.0", method: "tools/call", params: sign }, { jsonrpc: "2.0", method: "ping" }]);
    assert.equal(noteBatch.status, 202, noteBatch.text);
    assert.equal(await signed(), before, "a notification signed something");
    // MCP ids are strings or integers (not null, unlike base JSON-RPC).
    for (const id of [null, 1.5, true, [1], { a: 1 }]) {
      const r = await send({ jsonrpc: "2.0", id, method: "tools/call", params: sign });
      assert.equal(r.json?.error?.code, -32600, `id ${JSON.stringify(id)}: ${r.text}`);
      assert.equal(r.json.id, null);
    }
    for (const id of ["", "x".repeat(200), 0, -1, 9007199254740991]) {
      const r = await send({ jsonrpc: "2.0", id, method: "ping" });
      assert.deepEqual(r.json?.result, {}, `id ${JSON.stringify(id)}: ${r.text}`);
      assert.equal(r.json.id, id);
    }
    assert.equal(await signed(), before);
    // Missing jsonrpc, empty batch, nested batch, mixed batch.
    assert.equal((await send({ id: 5, method: "ping" })).json?.error?.code, -32600);
    const empty = await send("[]");
    assert.equal(empty.json?.error?.code, -32600, empty.text);
    const mixed = await send([{ jsonrpc: "2.0", id: 1, method: "ping" }, [{ jsonrpc: "2.0", id: 2, method: "ping" }], 42,
                              { jsonrpc: "2.0", id: 3, method: "nope" }, { jsonrpc: "2.0", id: 4, method: "tools/call", params: sign }]);
    assert.equal(mixed.status, 200, mixed.text);
    const byId = new Map(mixed.json.filter((a) => a.id !== null).map((a) => [a.id, a]));
    assert.deepEqual(byId.get(1).result, {});
    assert.equal(byId.get(3).error.code, -32601);
    assert.equal(byId.get(4).result.isError ?? false, false, JSON.stringify(byId.get(4)));
    assert.equal(mixed.json.filter((a) => a.id === null).length, 2, "the nested batch and 42 get -32600 each");
    assert.equal(await signed(), before + 1, "only the one signing request in the batch signed");
  });

  test("/rpc: signing notifications are run and audited (documented); a batch signs only its valid calls", async () => {
    const before = await signed();
    const r = await rest("POST", "/rpc", [
      { jsonrpc: "2.0", method: "personal_sign", params: ["0x6869", trader] },
      { jsonrpc: "2.0", id: "a", method: "personal_sign", params: ["0x6869", trader] },
      { jsonrpc: "2.0", id: 2.5, method: "personal_sign", params: [7, trader] },
      { jsonrpc: "2.0", id: 1e300, method: "personal_sign", params: ["0x6869"] },
      { jsonrpc: "2.0", id: null, method: "personal_sign", params: ["0x6869", "vault"] },
      { id: 4, method: "personal_sign", params: ["0x6869", trader] },
      { jsonrpc: "2.0", id: 5, method: "personal_sign", params: { data: "0x6869", address: trader } },
    ], tok.bot1);
    assert.equal(r.status, 200, r.text);
    const answers = r.json;
    assert.equal(answers.length, 6, r.text);
    assert.ok(answers.find((a) => a.id === "a").result);
    assert.equal(answers.find((a) => a.id === 2.5).error.code, -32602);
    assert.equal(answers.find((a) => a.id === 1e300).error.code, -32602);
    assert.equal(answers.find((a) => a.id === null && a.error.code === -32001)?.error.code, -32001, r.text);
    assert.equal(answers.find((a) => a.id === 4).error.code, -32600);
    assert.equal(answers.find((a) => a.id === 5).error.code, -32602);
    assert.equal(await signed(), before + 2, "the notification and the call with id \"a\"");
  });
  test("a retired address tells an agent outside the key's scope nothing; Sigil's own keys do not rotate", async () => {
    const old = (await sigil.rest("POST", "/v1/keys", { name: "rotating" })).json.address;
    const rotated = await sigil.rest("POST", "/v1/keys/rotating/rotate");
    assert.equal(rotated.status, 200, rotated.text);
    const current = rotated.json.address;
    const seen = await rest("GET", `/v1/keys/${old}`, undefined, tok.bot2);
    assertRefused(seen, "GET a retired address of another key", [403]);
    assert.ok(!seen.text.includes("rotating") && !seen.text.toLowerCase().includes(current.toLowerCase()), seen.text);
    const signing = await rpc("eth_sign", [old, "0x68656c6c6f"], tok.bot2);
    assert.ok(signing.error, JSON.stringify(signing));
    assert.ok(!JSON.stringify(signing).includes("rotating"), JSON.stringify(signing));
    // An admin is told where the key went.
    const admin = await rest("GET", `/v1/keys/${old}`);
    assert.ok(admin.text.toLowerCase().includes(current.toLowerCase()), admin.text);
    await unchanged(async () => {
      for (const own of ["sigil-audit", "sigil-attestation", "sigil-state"]) {
        const r = await rest("POST", `/v1/keys/${own}/rotate`);
        assertRefused(r, `rotate ${own}`, [409]);
      }
    });
  });
});
