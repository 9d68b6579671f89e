// Authorization matrix (issue #6): every role against every REST route and
// JSON-RPC method class of a real daemon. Exactly the allowed ones succeed
// (2xx / a result); the rest get 403 / -32001. Agent tokens see and use only
// their own keys; expired and revoked tokens fail; per-token rate limits
// answer -32005 with retry_after_ms and REST 429 with Retry-After.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { SigilServer, SIGIL_BIN, sleep } from "./lib/harness.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;
const ROLES = ["admin", "operator", "approver", "auditor", "agent"];

const policy = {
  version: 1,
  rules: [
    { id: "all-tx", effect: "allow", match: { kind: "eth_tx", chain_id: [31337] } },
    { id: "all-msg", effect: "allow", match: { kind: "eth_message" } },
  ],
};

function tx(from, nonce) {
  return {
    from, to: "0x" + "11".repeat(20), value: "0x1", gas: "0x5208", maxFeePerGas: "0x3b9aca00",
    maxPriorityFeePerGas: "0x1", nonce: "0x" + nonce.toString(16), chainId: "0x7a69",
  };
}

test("authorization matrix, key scoping, expired/revoked tokens, rate limits", { skip, timeout: 120000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "sigil-authz-"));
  const config = join(dir, "sigil.toml");
  // A per-role default rate for approvers (their tokens carry no --rate).
  writeFileSync(config, `[rate_limits]\napprover = "100/m"\n`);
  const sigil = await new SigilServer({ extraArgs: ["--config", config] }).start();
  try {
    const admin = sigil.adminToken;
    const mk = async (body) => {
      const r = await sigil.rest("POST", "/v1/keys", body);
      assert.equal(r.status, 201, r.text);
      return r.json.address;
    };
    const trader = await mk({ name: "trader" });
    const other = await mk({ name: "other" });
    for (const role of ROLES) await mk({ name: `rot-${role}` });
    assert.equal((await sigil.rest("POST", "/v1/policy", { policy })).status, 200);

    const tokens = { admin };
    const issue = async (body) => {
      const r = await sigil.rest("POST", "/v1/tokens", body);
      assert.equal(r.status, 201, r.text);
      return r.json.token;
    };
    tokens.operator = await issue({ role: "operator", name: "op-1" });
    tokens.approver = await issue({ role: "approver", name: "appr-1" });
    tokens.auditor = await issue({ role: "auditor", name: "aud-1" });
    tokens.agent = await issue({ role: "agent", name: "bot-1", keys: ["trader"] });
    for (const role of ROLES) await issue({ role: "agent", name: `victim-${role}` });

    const nonces = {};
    const nextNonce = (role) => (nonces[role] = (nonces[role] ?? 100 * ROLES.indexOf(role)) + 1);
    // [name, allowed roles, (role) => [method, path, body]]
    const rest = [
      ["list keys", ["admin", "operator", "agent"], () => ["GET", "/v1/keys"]],
      ["show own key", ["admin", "operator", "agent"], () => ["GET", "/v1/keys/trader"]],
      ["create key", ["admin"], (r) => ["POST", "/v1/keys", { name: `new-${r}` }]],
      ["rotate key", ["admin"], (r) => ["POST", `/v1/keys/rot-${r}/rotate`, {}]],
      ["read policy", ["admin", "operator", "auditor"], () => ["GET", "/v1/policy"]],
      ["suggest policy", ["admin", "operator", "auditor"], () => ["GET", "/v1/policy/suggest"]],
      ["apply policy", ["admin"], () => ["POST", "/v1/policy", { policy }]],
      ["explain", ["admin", "agent"], (r) => ["POST", "/v1/policy/explain", { key: "trader", tx: tx(trader, nextNonce(r)) }]],
      ["list tokens", ["admin"], () => ["GET", "/v1/tokens"]],
      ["issue token", ["admin"], (r) => ["POST", "/v1/tokens", { role: "agent", name: `issued-by-${r}` }]],
      ["revoke token", ["admin"], (r) => ["DELETE", `/v1/tokens/victim-${r}`]],
      ["list approvals", ["admin", "operator", "approver"], () => ["GET", "/v1/approvals"]],
      ["lockdown status", ROLES, () => ["GET", "/v1/lockdown"]],
      ["audit verify", ["admin", "auditor"], () => ["GET", "/v1/audit/verify"]],
      ["attestation", ["admin", "auditor"], () => ["POST", "/v1/attest", { nonce: randomBytes(32).toString("hex") }]],
      ["backup", ["admin"], () => ["POST", "/v1/backup", { passphrase: "correct horse battery staple" }]],
      ["metrics", ["admin", "operator"], () => ["GET", "/metrics"]],
      ["readyz", ROLES, () => ["GET", "/readyz"]],
    ];
    const failures = [];
    for (const [name, allowed, make] of rest) {
      for (const role of ROLES) {
        const [method, path, body] = make(role);
        const r = await sigil.rest(method, path, body, { token: tokens[role] });
        const want = allowed.includes(role);
        const ok = want ? r.status >= 200 && r.status < 300 : r.status === 403;
        if (!ok) failures.push(`${name} as ${role}: ${method} ${path} -> ${r.status} ${r.text.slice(0, 160)}`);
      }
    }

    // JSON-RPC method classes.
    const rpc = [
      ["sign tx", ["admin", "agent"], (r) => ["eth_signTransaction", [tx(trader, nextNonce(r))]]],
      ["personal_sign", ["admin", "agent"], () => ["personal_sign", ["0x68656c6c6f", trader]]],
      ["explain", ["admin", "agent"], (r) => ["sigil_explain", ["eth_signTransaction", tx(trader, nextNonce(r))]]],
      ["chain id", ROLES, () => ["eth_chainId", []]],
      ["list keys", ["admin", "operator", "agent"], () => ["sigil_listKeys", []]],
      ["budgets", ["admin", "operator", "agent"], () => ["sigil_getBudget", []]],
      ["read policy", ["admin", "operator", "auditor", "agent"], () => ["sigil_getPolicy", []]],
    ];
    for (const [name, allowed, make] of rpc) {
      for (const role of ROLES) {
        const [method, params] = make(role);
        const r = await sigil.rpc(method, params, { token: tokens[role] });
        const want = allowed.includes(role);
        const ok = want ? r.result !== undefined : r.error?.code === -32001;
        if (!ok) failures.push(`rpc ${name} as ${role}: ${JSON.stringify(r).slice(0, 200)}`);
      }
    }
    assert.deepEqual(failures, [], failures.join("\n"));

    // Agent scoping: sees and uses only its keys.
    const accounts = await sigil.rpc("eth_accounts", [], { token: tokens.agent });
    assert.deepEqual(accounts.result.map((a) => a.toLowerCase()), [trader.toLowerCase()]);
    const keys = await sigil.rest("GET", "/v1/keys", undefined, { token: tokens.agent });
    assert.deepEqual(keys.json.keys.map((k) => k.name), ["trader"]);
    assert.equal((await sigil.rest("GET", "/v1/keys/other", undefined, { token: tokens.agent })).status, 403);
    const foreign = await sigil.rpc("eth_signTransaction", [tx(other, 7)], { token: tokens.agent });
    assert.equal(foreign.error?.code, -32001, JSON.stringify(foreign));
    const foreignMsg = await sigil.rpc("personal_sign", ["0x68656c6c6f", other], { token: tokens.agent });
    assert.equal(foreignMsg.error?.code, -32001, JSON.stringify(foreignMsg));
    const adminAccounts = await sigil.rpc("eth_accounts", [], { token: admin });
    assert.ok(adminAccounts.result.length >= 2, JSON.stringify(adminAccounts));
    // Roles that may neither list keys nor sign see no accounts (wallets
    // call eth_accounts on connect, so it answers an empty list, not an error).
    for (const role of ["approver", "auditor"]) {
      const none = await sigil.rpc("eth_accounts", [], { token: tokens[role] });
      assert.deepEqual(none.result, [], `${role}: ${JSON.stringify(none)}`);
    }

    // Revoked and expired tokens fail on REST and RPC.
    const revokedTok = await issue({ role: "agent", name: "soon-revoked", keys: ["trader"] });
    assert.equal((await sigil.rest("DELETE", "/v1/tokens/soon-revoked")).status, 200);
    const expiringTok = await issue({ role: "agent", name: "short-lived", keys: ["trader"], expires: "1s" });
    assert.ok((await sigil.rpc("eth_accounts", [], { token: expiringTok })).result, "valid before expiry");
    await sleep(1500);
    for (const t of [revokedTok, expiringTok, "sgl_" + "0".repeat(80), "not-a-token"]) {
      const r = await sigil.rest("GET", "/v1/keys", undefined, { token: t });
      assert.equal(r.status, 401, r.text);
      const q = await sigil.rpc("eth_accounts", [], { token: t });
      assert.equal(q.error?.code, -32001, JSON.stringify(q));
      assert.equal(q.id, 1, "the refusal answers the call by its id");
    }
    // A refused batch: one -32001 per call, with each call's id.
    const refusedBatch = await fetch(sigil.url + "/rpc", {
      method: "POST", headers: { "content-type": "application/json", authorization: "Bearer not-a-token" },
      body: JSON.stringify([{ jsonrpc: "2.0", id: "a", method: "eth_chainId" }, { jsonrpc: "2.0", id: 9, method: "eth_accounts" }]),
    });
    assert.equal(refusedBatch.status, 401);
    const refusedCalls = await refusedBatch.json();
    assert.deepEqual(refusedCalls.map((c) => [c.id, c.error.code]), [["a", -32001], [9, -32001]]);

    // Per-token rate limit: 3 per minute.
    const limited = await issue({ role: "agent", name: "slow-bot", keys: ["trader"], rate: "3/m" });
    for (let i = 0; i < 3; i++) assert.ok((await sigil.rpc("eth_chainId", [], { token: limited })).result);
    const refused = await sigil.rpc("eth_chainId", [], { token: limited });
    assert.equal(refused.error?.code, -32005, JSON.stringify(refused));
    assert.ok(refused.error.data.retry_after_ms > 0 && refused.error.data.retry_after_ms <= 20000, JSON.stringify(refused));
    const r429 = await fetch(sigil.url + "/v1/keys", { headers: { authorization: `Bearer ${limited}` } });
    assert.equal(r429.status, 429);
    assert.ok(Number(r429.headers.get("retry-after")) >= 1);
    assert.ok((await r429.json()).retry_after_ms > 0);
    // A batch counts each call; other tokens are unaffected.
    const batch = await fetch(sigil.url + "/rpc", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tokens.agent}` },
      body: JSON.stringify([1, 2].map((id) => ({ jsonrpc: "2.0", id, method: "eth_chainId" }))),
    }).then((r) => r.json());
    assert.ok(batch.every((x) => x.result), JSON.stringify(batch));
    const list = await sigil.rest("GET", "/v1/tokens");
    assert.equal(list.json.tokens.find((t) => t.name === "slow-bot").rate, "3/m");
    assert.ok(!list.text.includes(limited), "token list never shows a token");

    // CLI: token create --rate.
    const cli = sigil.cli(["token", "create", "--role", "agent", "--name", "cli-bot", "--rate", "10/s", "--json"]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.json.rate, "10/s");
    const badRate = sigil.cli(["token", "create", "--role", "agent", "--name", "cli-bad", "--rate", "10/fortnight", "--json"]);
    assert.notEqual(badRate.code, 0);

    // Lockdown last (it stops signing): only operator and admin may turn it on.
    for (const role of ["approver", "auditor", "agent"]) {
      const r = await sigil.rest("POST", "/v1/lockdown", { on: true, reason: "test" }, { token: tokens[role] });
      assert.equal(r.status, 403, `${role}: ${r.text}`);
    }
    const on = await sigil.rest("POST", "/v1/lockdown", { on: true, reason: "test" }, { token: tokens.operator });
    assert.equal(on.status, 200, on.text);
    const off = await sigil.rest("POST", "/v1/lockdown", { on: false }, { token: tokens.operator });
    assert.equal(off.status, 403, off.text);

    // The role default: approvers get 100 per minute in all (the matrix used some).
    let passed = 0;
    let refusal;
    for (let i = 0; i < 120 && !refusal; i++) {
      const q = await sigil.rpc("eth_chainId", [], { token: tokens.approver });
      if (q.error) refusal = q.error;
      else passed++;
    }
    assert.equal(refusal?.code, -32005, "approver default rate enforced");
    assert.ok(passed < 100, `some of the 100 were used by the matrix (${passed} passed here)`);
    assert.equal((await sigil.rest("GET", "/v1/approvals", undefined, { token: tokens.approver })).status, 429);
    assert.ok((await sigil.rpc("eth_chainId", [], { token: tokens.auditor })).result, "other roles unlimited");
  } finally {
    await sigil.stop();
  }
});
