// Every command the README's "A first session" shows, run against a real dev
// server, with the outcomes the README promises.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SigilServer, SIGIL_BIN, E2E_DIR } from "./lib/harness.mjs";
import { secretFromUri, totp } from "./lib/totp.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;
const POLICY = join(E2E_DIR, "../../examples/policy.json");
let sigil, trader, agent;

before(async () => {
  if (skip) return;
  sigil = await new SigilServer().start();
});
after(async () => {
  if (sigil) await sigil.stop();
});

function tx(value, nonce) {
  return { from: trader, to: "0x1111111111111111111111111111111111111111", value, gas: "0x5208",
           maxFeePerGas: "0x3b9aca00", maxPriorityFeePerGas: "0x1", nonce, chainId: "0x7a69" };
}

test("the admin token file is private", { skip }, () => {
  assert.equal(statSync(join(sigil.dataDir, "admin.token")).mode & 0o777, 0o600);
  assert.equal(statSync(sigil.dataDir).mode & 0o777, 0o700);
});

test("key create, policy apply, token create", { skip }, () => {
  const key = sigil.cli(["key", "create", "trader", "--json"]);
  assert.equal(key.code, 0, key.stderr);
  trader = key.json.address;
  assert.match(trader, /^0x[0-9a-fA-F]{40}$/);
  const readable = sigil.cli(["key", "list"]);
  assert.equal(readable.code, 0);
  assert.match(readable.stdout, /trader/);
  const pol = sigil.cli(["policy", "apply", POLICY, "--json"]);
  assert.equal(pol.code, 0, pol.stderr);
  assert.equal(pol.json.version, 1);
  const tok = sigil.cli(["token", "create", "--role", "agent", "--name", "bot-1", "--keys", "trader", "--json"]);
  assert.equal(tok.code, 0, tok.stderr);
  agent = tok.json.token;
  assert.match(agent, /^sgl_/);
});

test("signing with the agent token, then a budget refusal the agent can act on", { skip }, async () => {
  const ok1 = await sigil.rpc("eth_signTransaction", [tx("0x6f05b59d3b20000", "0x0")], { token: agent });
  assert.match(ok1.result, /^0x02f8/);
  const ok2 = await sigil.rpc("eth_signTransaction", [tx("0x6f05b59d3b20000", "0x1")], { token: agent });
  assert.match(ok2.result, /^0x02f8/);
  const denied = await sigil.rpc("eth_signTransaction", [tx("0x6f05b59d3b20000", "0x2")], { token: agent });
  assert.equal(denied.error.code, -32003);
  assert.equal(denied.error.data.decision, "deny");
  assert.equal(denied.error.data.rule, "small-payments");
  assert.equal(denied.error.data.budget.window, "24h");
  assert.equal(denied.error.data.budget.limit, "1000000000000000000");
  assert.ok(Number.isInteger(denied.error.data.audit_seq));
  // The agent cannot use the admin API.
  const forbidden = sigil.cli(["key", "create", "other"], { token: agent });
  assert.equal(forbidden.code, 1);
});

test("approval: held, approved by two approvers with TOTP, collected once", { skip }, async () => {
  const held = await sigil.rpc("eth_signTransaction", [tx("0x1bc16d674ec80000", "0x3")], { token: agent });
  assert.equal(held.error.code, -32002);
  const id = held.error.data.approval_id;
  const list = sigil.cli(["approval", "list", "--json"]);
  assert.equal(list.code, 0);
  assert.ok(list.json.approvals.some((a) => a.approval_id === id));
  for (const name of ["alice", "bob"]) {
    const t = sigil.cli(["token", "create", "--role", "approver", "--name", name, "--json"]);
    assert.equal(t.code, 0, t.stderr);
    const enrol = sigil.cli(["token", "totp", name, "--json"]);
    assert.equal(enrol.code, 0, enrol.stderr);
    assert.match(enrol.json.otpauth_uri, /^otpauth:\/\/totp\//);
    const code = totp(secretFromUri(enrol.json.otpauth_uri));
    const ok = sigil.cli(["approval", "approve", id, "--totp", code, "--json"], { token: t.json.token });
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  }
  const status = await sigil.rpc("sigil_approvalStatus", [id], { token: agent });
  assert.equal(status.result.state, "consumed");
  assert.match(status.result.result, /^0x02f8/);
});

test("explain, audit verify, export and offline verify, lockdown", { skip }, () => {
  const explain = sigil.cli(["policy", "explain", "--key", "trader", "--json", "--tx",
    JSON.stringify({ to: "0x1111111111111111111111111111111111111111", value: "0x1", gas: "0x5208", maxFeePerGas: "0x1",
                     maxPriorityFeePerGas: "0x1", nonce: "0x0", chainId: "0x7a69" })]);
  assert.equal(explain.code, 0, explain.stderr);
  assert.ok(["allow", "deny", "require_approval"].includes(explain.json.decision));
  assert.equal(explain.json.signed, false);
  const verify = sigil.cli(["audit", "verify", "--json"]);
  assert.equal(verify.code, 0, verify.stdout);
  assert.equal(verify.json.valid, true);
  const out = join(mkdtempSync(join(tmpdir(), "sigil-exp-")), "audit.sigil");
  const exp = sigil.cli(["audit", "export", "--out", out, "--json"]);
  assert.equal(exp.code, 0, exp.stderr);
  const pubkey = sigil.cli(["key", "list", "--json"]).json.audit_public_key;
  const offline = sigil.cli(["audit", "verify", "--file", out, "--pubkey", pubkey, "--json"]);
  assert.equal(offline.code, 0, offline.stdout);
  assert.equal(offline.json.valid, true);
  // A flipped byte in the export is caught offline.
  const bytes = readFileSync(out);
  bytes[Math.floor(bytes.length / 2)] ^= 0x01;
  const tampered = join(mkdtempSync(join(tmpdir(), "sigil-exp-")), "bad.sigil");
  writeFileSync(tampered, bytes);
  const bad = sigil.cli(["audit", "verify", "--file", tampered, "--pubkey", pubkey, "--json"]);
  assert.equal(bad.code, 1);
  assert.equal(bad.json.valid, false);
  const on = sigil.cli(["lockdown", "on", "--reason", "incident", "--json"]);
  assert.equal(on.code, 0, on.stderr);
  const st = sigil.cli(["lockdown", "status", "--json"]);
  assert.equal(st.json.locked, true);
});

test("lockdown stops signing at once and survives a restart", { skip }, async () => {
  const r = await sigil.rpc("eth_signTransaction", [tx("0x1", "0x9")], { token: agent });
  assert.equal(r.error.code, -32004);
  await sigil.stop();
  await sigil.start();
  const again = await sigil.rpc("eth_signTransaction", [tx("0x1", "0x9")], { token: agent });
  assert.equal(again.error.code, -32004);
  const off = sigil.cli(["lockdown", "off", "--totp", "123456"]);
  assert.notEqual(off.code, 0, "lifting needs an admin TOTP");
});
