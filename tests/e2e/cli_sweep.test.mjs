// Acceptance sweep of the `sigil` CLI against a real dev server, command by
// command as INTERFACE.md lists them: with --json, stdout is one JSON
// document with the fields the command implies; without it, a readable
// summary; exit status exactly 0 success, 1 refused (policy, auth, lockdown),
// 2 bad input or usage, 3 unavailable; errors on stderr, never holding a
// token; the daemon found through --url / SIGIL_URL (http:// and unix:PATH)
// and the token through --token / SIGIL_TOKEN / --data DIR.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { SigilServer, SIGIL_BIN, freePort } from "./lib/harness.mjs";
import { secretFromUri, totp } from "./lib/totp.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;
let sigil, work, sock, admin, agent, approver, auditor, trader, closedUrl;

const POLICY = {
  version: 1,
  rules: [
    { id: "small", effect: "allow", match: { kind: "eth_tx", chain_id: [31337], value: { lte: "0.5 ether" } } },
    { id: "big", effect: "require_approval", match: { kind: "eth_tx", value: { gt: "0.5 ether" } },
      approval: { quorum: 1, role: "approver", expires: "1h" } },
    { id: "msgs", effect: "allow", match: { kind: "eth_message" } },
  ],
};

// The environment of a shell with nothing of Sigil's set.
function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("SIGIL_") && k !== "SIGIL_BIN") delete env[k];
  delete env.SIGIL_BIN;
  return env;
}

// Runs the CLI. By default against the dev server with the admin token in
// SIGIL_TOKEN; `token: null` leaves SIGIL_TOKEN unset.
function cli(args, { token = admin, url, env = {}, input, cwd = work } = {}) {
  const e = { ...cleanEnv(), SIGIL_URL: url ?? sigil.url, ...env };
  if (token !== null) e.SIGIL_TOKEN = token;
  for (const [k, v] of Object.entries(e)) if (v === undefined) delete e[k];
  const r = spawnSync(SIGIL_BIN, args, { env: e, input, cwd, encoding: "utf8", timeout: 30000 });
  let json;
  try {
    json = JSON.parse(r.stdout);
  } catch {}
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, json };
}

// Exit status `code`; with --json, stdout is exactly one JSON document.
function expect(r, code, what = "") {
  assert.equal(r.signal, null, `${what} died of ${r.signal}`);
  assert.equal(r.code, code, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}
function expectJson(r, code, what = "") {
  expect(r, code, what);
  assert.notEqual(r.json, undefined, `${what}: stdout is not one JSON document: ${r.stdout}`);
  return r.json;
}
// A failure: a message on stderr; with --json an {"error"} document.
function expectError(r, code, pattern, what = "") {
  expect(r, code, what);
  assert.match(r.stderr, /^sigil: |^--|is required|not expected|excludes|Run with --help/, `${what}: ${r.stderr}`);
  if (pattern) assert.match(r.stderr, pattern, what);
  return r;
}

function tx(value, nonce) {
  return { from: trader, to: "0x2222222222222222222222222222222222222222", value, gas: "0x5208",
           maxFeePerGas: "0x1", maxPriorityFeePerGas: "0x1", nonce, chainId: "0x7a69" };
}

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), "sigil-sweep-"));
  sock = join(work, "s.sock");
  sigil = await new SigilServer({ extraArgs: ["--unix-socket", sock] }).start();
  admin = sigil.adminToken;
  closedUrl = `http://127.0.0.1:${await freePort()}`;
  writeFileSync(join(work, "policy.json"), JSON.stringify(POLICY));
  writeFileSync(join(work, "backup.pass"), "a long backup passphrase\n", { mode: 0o600 });
  writeFileSync(join(work, "master.pass"), "a long master passphrase\n", { mode: 0o600 });
});
after(async () => {
  if (sigil) await sigil.stop();
  for (const dir of [work, sigil?.dataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

test("key create (each type), list, show, rotate", { skip }, () => {
  for (const [name, type, address] of [["trader", "secp256k1", /^0x[0-9a-fA-F]{40}$/], ["sol", "ed25519", /^[1-9A-HJ-NP-Za-km-z]{32,44}$/],
                                        ["nostr", "schnorr", /^[0-9a-f]{64}$/]]) {
    const k = expectJson(cli(["key", "create", name, "--type", type, "--json"]), 0, name);
    assert.equal(k.name, name);
    assert.equal(k.type, type);
    assert.equal(k.backend, "software");
    assert.match(k.id, /^key_/);
    assert.match(k.address, address);
    assert.match(k.public_key, /^[0-9a-f]+$/);
    if (name === "trader") trader = k.address;
  }
  const readable = expect(cli(["key", "create", "second"]), 0);
  assert.match(readable.stdout, /^address: 0x[0-9a-fA-F]{40}$/m);
  assert.match(readable.stdout, /^name: second$/m);
  const list = expectJson(cli(["key", "list", "--json"]), 0);
  assert.match(list.audit_public_key, /^[0-9a-f]{64}$/);
  assert.deepEqual(["nostr", "second", "sol", "trader"].filter((n) => list.keys.some((k) => k.name === n)), ["nostr", "second", "sol", "trader"]);
  assert.match(expect(cli(["key", "list"]), 0).stdout, /trader/);
  const show = expectJson(cli(["key", "show", "trader", "--json"]), 0);
  assert.equal(show.address, trader);
  assert.equal(expectJson(cli(["key", "show", trader, "--json"]), 0).name, "trader");  // by address
  const rotated = expectJson(cli(["key", "rotate", "sol", "--json"]), 0);
  assert.equal(rotated.version, 2);
  assert.match(expect(cli(["key", "rotate", "second"]), 0).stdout, /^version: 2$/m);

  // Bad input: exit 2, and with --json an {"error"} document.
  assert.match(expectJson(cli(["key", "create", "trader", "--json"]), 2).error, /already exists/);
  assert.match(expectJson(cli(["key", "create", "x", "--type", "rsa", "--json"]), 2).error, /secp256k1, ed25519 or schnorr/);
  expectError(cli(["key", "show", "nope"]), 2, /no key/);
  expectError(cli(["key", "rotate", "nope"]), 2, /no key/);
  expectError(cli(["key", "create"]), 2, /name is required/);
  // An empty name listed every key (exit 0) or reached no route (exit 3).
  expectError(cli(["key", "show", ""]), 2, /must not be empty/);
  expectError(cli(["key", "rotate", ""]), 2, /must not be empty/);
  expectError(cli(["key", "list", "--bogus"]), 2, /--bogus/);
  expectError(cli(["key", "frob"]), 2);
  expectError(cli([]), 2);
  expect(cli(["--help"]), 0);
});

test("policy apply, show, test, explain", { skip }, () => {
  const applied = expectJson(cli(["policy", "apply", join(work, "policy.json"), "--json"]), 0);
  assert.match(applied.hash, /^[0-9a-f]{64}$/);
  assert.ok(Number.isInteger(applied.version));
  assert.match(expect(cli(["policy", "apply", join(work, "policy.json")]), 0).stdout, /^hash: [0-9a-f]{64}$/m);
  const shown = expectJson(cli(["policy", "show", "--json"]), 0);
  assert.equal(shown.hash, applied.hash);
  assert.deepEqual(shown.policy.rules.map((r) => r.id), ["small", "big", "msgs"]);
  assert.match(expect(cli(["policy", "show"]), 0).stdout, /id=small/);

  // An invalid policy: exit 2; the errors (with line and column) on stderr.
  writeFileSync(join(work, "bad.json"), '{"version":1,');
  const bad = expectError(cli(["policy", "apply", join(work, "bad.json")]), 2, /invalid policy/);
  assert.match(bad.stderr, /\(line 1, column 14\): not valid JSON/);
  assert.equal(bad.stdout, "");
  writeFileSync(join(work, "invalid.json"), '{"version":1,"rules":[{"id":"x","effect":"maybe"}]}');
  const invalid = expectJson(cli(["policy", "apply", join(work, "invalid.json"), "--json"]), 2);
  assert.match(invalid.errors[0], /"maybe" is not one of/);
  assert.match(expectJson(cli(["policy", "apply", join(work, "none.json"), "--json"]), 2).error, /cannot read .*none\.json: No such file/);
  expectError(cli(["policy", "apply", work]), 2, /Is a directory/);

  // policy test: offline; all pass 0, a failing case 1, bad files 2.
  const base = { kind: "eth_tx", key: "trader", chain_id: 31337, to: "0x2222222222222222222222222222222222222222" };
  writeFileSync(join(work, "cases.json"), JSON.stringify([
    { ...base, name: "small ok", value: "0.1 ether", expect: "allow", rule: "small" },
    { ...base, name: "big held", value: "1 ether", expect: "require_approval", rule: "big" }]));
  writeFileSync(join(work, "cases-fail.json"), JSON.stringify([{ ...base, name: "wrong", value: "1 ether", expect: "allow" }]));
  const passed = expectJson(cli(["policy", "test", join(work, "policy.json"), "--cases", join(work, "cases.json"), "--json"], { url: closedUrl }), 0);
  assert.equal(passed.passed, 2);
  assert.equal(passed.failed, 0);
  assert.deepEqual(passed.results.map((r) => [r.name, r.decision, r.rule]), [["small ok", "allow", "small"], ["big held", "require_approval", "big"]]);
  assert.match(expect(cli(["policy", "test", join(work, "policy.json"), "--cases", join(work, "cases.json")]), 0).stdout, /2 passed, 0 failed/);
  const failed = expectJson(cli(["policy", "test", join(work, "policy.json"), "--cases", join(work, "cases-fail.json"), "--json"]), 1);
  assert.equal(failed.results[0].passed, false);
  assert.match(failed.results[0].failure, /expected allow, got require_approval/);
  assert.match(expect(cli(["policy", "test", join(work, "policy.json"), "--cases", join(work, "cases-fail.json")]), 1).stdout, /FAIL wrong/);
  expectError(cli(["policy", "test", join(work, "bad.json"), "--cases", join(work, "cases.json")]), 2, /invalid policy/);
  expectError(cli(["policy", "test", join(work, "policy.json"), "--cases", join(work, "bad.json")]), 2, /cases file/);
  expectError(cli(["policy", "test", join(work, "policy.json")]), 2, /--cases is required/);

  // explain: a dry run; the request inline, @file or a path.
  const t = JSON.stringify({ to: "0x2222222222222222222222222222222222222222", value: "0x1", gas: "0x5208", maxFeePerGas: "0x1",
                             maxPriorityFeePerGas: "0x1", nonce: "0x0", chainId: "0x7a69" });
  writeFileSync(join(work, "tx.json"), t);
  for (const arg of [t, `@${join(work, "tx.json")}`, join(work, "tx.json")]) {
    const e = expectJson(cli(["policy", "explain", "--key", "trader", "--tx", arg, "--json"]), 0, arg);
    assert.equal(e.decision, "allow");
    assert.equal(e.rule, "small");
    assert.equal(e.reason, "allowed by rule small");
    assert.equal(e.signed, false);
    assert.ok(Array.isArray(e.budgets));
  }
  assert.match(expect(cli(["policy", "explain", "--key", "trader", "--tx", t]), 0).stdout, /^decision: allow$/m);
  const big = expectJson(cli(["policy", "explain", "--key", "trader", "--json", "--tx",
    JSON.stringify({ ...JSON.parse(t), value: "0xde0b6b3a7640000" })]), 0);
  assert.equal(big.decision, "require_approval");
  assert.equal(expectJson(cli(["policy", "explain", "--key", "trader", "--message", "hi", "--json"]), 0).rule, "msgs");
  expectError(cli(["policy", "explain", "--key", "nope", "--tx", t]), 2, /no key/);
  expectError(cli(["policy", "explain", "--key", "trader"]), 2, /give one of --tx, --message or --typed-data/);
  expectError(cli(["policy", "explain", "--key", "trader", "--tx", t, "--message", "hi"]), 2, /excludes/);
  expectError(cli(["policy", "explain", "--key", "trader", "--tx", '{"to":']), 2, /--tx: not valid JSON/);
  expectError(cli(["policy", "explain", "--key", "trader", "--tx", '{"to":"0x1","to":"0x2"}']), 2, /duplicate key "to"/);
  expectError(cli(["policy", "explain", "--key", "trader", "--tx", join(work, "none.json")]), 2, /No such file/);
  // A document nested 200,000 deep crashed the CLI; 65 levels is over the
  // daemon's limit. Both exit 2 before anything is sent.
  writeFileSync(join(work, "deep.json"), `{"a":${"[".repeat(200000)}${"]".repeat(200000)}}`);
  for (const arg of [`@${join(work, "deep.json")}`, join(work, "deep.json"), `{"a":${"[".repeat(64)}${"]".repeat(64)}}`]) {
    const deep = expectJson(cli(["policy", "explain", "--key", "trader", "--tx", arg, "--json"]), 2, "deep --tx");
    assert.match(deep.error, /--tx: JSON nests deeper than 64 levels/);
  }
  expectError(cli(["policy", "explain", "--key", "trader", "--typed-data", `@${join(work, "deep.json")}`]), 2, /--typed-data: JSON nests deeper/);
});

test("policy test: a deeply nested cases file is refused, not a crash", { skip }, () => {
  const base = { kind: "eth_tx", key: "trader", expect: "allow" };
  writeFileSync(join(work, "deep-cases.json"), JSON.stringify([{ ...base, before: ["X"] }]).replace('"X"', "[".repeat(200000) + "]".repeat(200000)));
  expectError(cli(["policy", "test", join(work, "policy.json"), "--cases", join(work, "deep-cases.json")]), 2, /deeper than 64/);
});

test("token create: each role, --keys, --expires, --name; refusals", { skip }, () => {
  for (const role of ["admin", "operator", "approver", "auditor", "agent"]) {
    const t = expectJson(cli(["token", "create", "--role", role, "--name", `sweep-${role}`, "--json"]), 0, role);
    assert.match(t.token, /^sgl_[0-9a-f]+$/);
    assert.equal(t.role, role);
    assert.equal(t.name, `sweep-${role}`);
    assert.match(t.id, /^tok_/);
    if (role === "approver") approver = t.token;
    if (role === "auditor") auditor = t.token;
  }
  const a = expectJson(cli(["token", "create", "--role", "agent", "--name", "bot-1", "--keys", "trader,sol", "--expires", "1h", "--json"]), 0);
  assert.deepEqual(a.keys, ["trader", "sol"]);
  const expires = Date.parse(a.expires_at);
  assert.ok(expires > Date.now() + 3500e3 && expires < Date.now() + 3700e3, a.expires_at);
  agent = a.token;
  const readable = expect(cli(["token", "create", "--role", "agent", "--keys", "trader"]), 0);
  assert.match(readable.stdout, /^token: sgl_[0-9a-f]+$/m);
  assert.match(readable.stdout, /^name: agent-[0-9a-f]{8}$/m);  // an empty name becomes ROLE-<8 hex of the id>

  expectError(cli(["token", "create", "--role", "king"]), 2, /role must be/);
  expectError(cli(["token", "create", "--role", "agent", "--expires", "soon"]), 2, /expires/);
  expectError(cli(["token", "create", "--role", "agent", "--name", "bot-1"]), 2, /already exists/);
  expectError(cli(["token", "create"]), 2, /--role is required/);
  // Auth refusals are 1; the agent cannot use the admin API.
  expectError(cli(["token", "create", "--role", "admin"], { token: agent }), 1, /may not/);
  expectError(cli(["key", "create", "x"], { token: agent }), 1, /may not/);
  const agentKeys = expectJson(cli(["key", "list", "--json"], { token: agent }), 0);
  assert.deepEqual(agentKeys.keys.map((k) => k.name).sort(), ["sol", "trader"]);
  expectError(cli(["policy", "explain", "--key", "trader", "--message", "x"], { token: auditor }), 1);
  expectError(cli(["policy", "apply", join(work, "policy.json")], { token: agent }), 1, /may not/);
});

test("approval list, approve, reject", { skip }, async () => {
  const held = async (nonce) => {
    const r = await sigil.rpc("eth_signTransaction", [tx("0xde0b6b3a7640000", nonce)], { token: agent });
    assert.equal(r.error?.code, -32002, JSON.stringify(r));
    return r.error.data.approval_id;
  };
  const id1 = await held("0x0");
  const id2 = await held("0x1");
  const list = expectJson(cli(["approval", "list", "--json"]), 0);
  assert.deepEqual(list.approvals.map((a) => a.approval_id).sort(), [id1, id2].sort());
  assert.equal(list.approvals[0].state, "pending");
  assert.match(expect(cli(["approval", "list"]), 0).stdout, new RegExp(`approval_id=${id1}`));

  expectError(cli(["approval", "approve", id1], { token: agent }), 1, /may not decide approvals/);
  expectError(cli(["approval", "approve", "ap_nope"], { token: approver }), 2, /not an approval id/);
  expectError(cli(["approval", "approve", "ap_0000000000000000"], { token: approver }), 2, /no approval/);
  const ok = expectJson(cli(["approval", "approve", id1, "--json"], { token: approver }), 0);
  assert.equal(ok.state, "approved");
  assert.equal(ok.approvals, 1);
  const status = await sigil.rpc("sigil_approvalStatus", [id1], { token: agent });
  assert.match(status.result.result, /^0x02f8/);

  const rejected = expectJson(cli(["approval", "reject", id2, "--reason", "not today", "--json"], { token: approver }), 0);
  assert.equal(rejected.state, "rejected");
  assert.equal(rejected.reject_reason, "not today");
  expectError(cli(["approval", "approve", id2], { token: approver }), 2, /rejected/);
  expectError(cli(["approval", "reject", id2], { token: agent }), 1);
  expectError(cli(["approval", "approve"]), 2, /id is required/);
});

test("lockdown off refuses an admin without a second factor as a refusal (exit 1)", { skip }, () => {
    // The lockdown stays on; the next test enrols the admin's TOTP and lifts it.
    expect(cli(["lockdown", "on", "--reason", "drill"]), 0);
    expectError(cli(["lockdown", "off", "--totp", "123456"]), 1, /second factor/);
  });

test("lockdown on, status, off with TOTP", { skip }, async () => {
  expectError(cli(["lockdown", "on"], { token: agent }), 1, /may not turn lockdown on/);
  assert.equal(expectJson(cli(["lockdown", "on", "--reason", "drill", "--json"]), 0).locked, true);
  const st = expectJson(cli(["lockdown", "status", "--json"], { token: auditor }), 0);
  assert.equal(st.locked, true);
  assert.equal(st.reason, "drill");
  assert.ok(Array.isArray(st.suspended_agents));
  assert.match(expect(cli(["lockdown", "status"]), 0).stdout, /^locked: true$/m);
  // Signing is refused while locked, explain still answers.
  const refused = await sigil.rpc("eth_signTransaction", [tx("0x1", "0x5")], { token: agent });
  assert.equal(refused.error.code, -32004);

  const enrol = expectJson(cli(["token", "totp", "admin", "--json"]), 0);
  const secret = secretFromUri(enrol.otpauth_uri);
  const wrong = String((Number(totp(secret)) + 1) % 1000000).padStart(6, "0");
  assert.match(expectJson(cli(["lockdown", "off", "--totp", wrong, "--json"]), 1).error, /invalid TOTP code/);
  expectError(cli(["lockdown", "off", "--totp", ""]), 1, /needs a TOTP code/);
  expectError(cli(["lockdown", "off"]), 2, /--totp is required/);
  expectError(cli(["lockdown", "off", "--totp", totp(secret)], { token: approver }), 1);
  assert.equal(expectJson(cli(["lockdown", "status", "--json"]), 0).locked, true, "a refused lift changes nothing");
  assert.equal(expectJson(cli(["lockdown", "off", "--totp", totp(secret), "--json"]), 0).locked, false);
  assert.match(expectJson(cli(["lockdown", "off", "--totp", totp(secret), "--json"]), 2).error, /no lockdown is in force/);
  assert.equal(expectJson(cli(["lockdown", "status", "--json"]), 0).locked, false);
});

test("audit verify (live and offline), export", { skip }, () => {
  const live = expectJson(cli(["audit", "verify", "--json"], { token: auditor }), 0);
  assert.equal(live.valid, true);
  assert.deepEqual(live.errors, []);
  assert.ok(live.records > 10);
  assert.match(live.root, /^[0-9a-f]{64}$/);
  assert.match(expect(cli(["audit", "verify"]), 0).stdout, /^valid: true$/m);
  expectError(cli(["audit", "verify"], { token: agent }), 1, /may not read the audit log/);

  const out = join(work, "audit.sigil");
  const exp = expectJson(cli(["audit", "export", "--out", out, "--json"]), 0);
  assert.equal(exp.file, out);
  assert.ok(exp.records >= live.records);
  assert.match(exp.pubkey, /^[0-9a-f]{64}$/);
  assert.match(expect(cli(["audit", "export", "--out", join(work, "audit2.sigil")]), 0).stdout, /^records: \d+$/m);
  expectError(cli(["audit", "export", "--out", join(work, "no", "a.sigil")]), 2, /cannot write .* is not a folder/);
  expectError(cli(["audit", "export"]), 2, /--out is required/);
  // The CSV report is printed as the daemon sent it (it was shown as "error: seq,...").
  assert.match(expect(cli(["audit", "report", "--format", "csv"]), 0).stdout, /^seq,time,/);
  expectError(cli(["audit", "report", "--format", "xml"]), 2);

  // Offline: no daemon needed (the URL is a closed port).
  const offline = expectJson(cli(["audit", "verify", "--file", out, "--pubkey", exp.pubkey, "--json"], { url: closedUrl }), 0);
  assert.equal(offline.valid, true);
  assert.equal(offline.records, exp.records);
  assert.match(expect(cli(["audit", "verify", "--file", out, "--pubkey", exp.pubkey], { url: closedUrl }), 0).stdout, /audit log verifies/);
  const other = expectJson(cli(["key", "list", "--json"]), 0).keys.find((k) => k.name === "sigil-attestation").public_key;
  const wrongKey = expectJson(cli(["audit", "verify", "--file", out, "--pubkey", other, "--json"]), 1);
  assert.equal(wrongKey.valid, false);
  const bytes = readFileSync(out);
  bytes[Math.floor(bytes.length / 2)] ^= 1;
  writeFileSync(join(work, "tampered.sigil"), bytes);
  assert.equal(expectJson(cli(["audit", "verify", "--file", join(work, "tampered.sigil"), "--pubkey", exp.pubkey, "--json"]), 1).valid, false);
  expectError(cli(["audit", "verify", "--file", out]), 2, /--pubkey must be/);
  expectError(cli(["audit", "verify", "--file", out, "--pubkey", "zz"]), 2, /--pubkey must be/);
  expectError(cli(["audit", "verify", "--file", join(work, "none"), "--pubkey", exp.pubkey]), 2, /cannot read/);
});

test("attest get, verify, check", { skip }, () => {
  const nonce = randomBytes(32).toString("hex");
  const out = join(work, "report.json");
  const report = expectJson(cli(["attest", "get", "--nonce", nonce, "--out", out, "--json"], { token: auditor }), 0);
  assert.equal(report.nonce, nonce);
  assert.equal(report.debug, true);  // dev mode says so in every attestation
  assert.deepEqual(JSON.parse(readFileSync(out, "utf8")), report);
  assert.match(expect(cli(["attest", "get", "--nonce", nonce]), 0).stdout, /^debug: true$/m);
  expectError(cli(["attest", "get", "--nonce", "xyz"]), 2, /nonce/);
  expectError(cli(["attest", "get", "--nonce", nonce], { token: agent }), 1);
  expectError(cli(["attest", "get", "--nonce", nonce, "--out", join(work, "no", "r.json")]), 2, /is not a folder/);

  const ok = expectJson(cli(["attest", "verify", out, "--nonce", nonce, "--allow-debug", "--json"], { url: closedUrl }), 0);
  assert.equal(ok.valid, true);
  assert.deepEqual(ok.errors, []);
  assert.match(expect(cli(["attest", "verify", out, "--nonce", nonce, "--allow-debug"]), 0).stdout, /attestation report is valid/);
  const debug = expectJson(cli(["attest", "verify", out, "--nonce", nonce, "--json"]), 1);
  assert.equal(debug.valid, false);
  assert.ok(debug.errors.some((e) => e.code === "debug_not_allowed"));
  const stale = expectJson(cli(["attest", "verify", out, "--nonce", randomBytes(32).toString("hex"), "--allow-debug", "--json"]), 1);
  assert.ok(stale.errors.some((e) => e.code === "nonce_mismatch"));
  expectError(cli(["attest", "verify", out, "--nonce", "00", "--allow-debug"]), 2, /--nonce must be/);
  expectError(cli(["attest", "verify", join(work, "none.json"), "--nonce", nonce]), 2, /cannot read/);

  // Dev mode fails the environment check: exit 1, the failed checks named.
  const check = expectJson(cli(["attest", "check", "--json"]), 1);
  assert.equal(check.valid, false);
  assert.ok(check.checks.some((c) => c.name === "dev_mode" && c.ok === false));
  const readable = expect(cli(["attest", "check"]), 1);
  assert.match(readable.stdout, /name=dev_mode/);
  assert.match(readable.stderr, /the environment check failed: .*dev_mode/);
});

test("backup create and restore, init", { skip }, () => {
  // Restore also needs the new directory's master passphrase.
  const env = { SIGIL_BACKUP_PASSPHRASE_FILE: join(work, "backup.pass"), SIGIL_PASSPHRASE_FILE: join(work, "master.pass") };
  const out = join(work, "keys.sigil");
  const made = expectJson(cli(["backup", "create", "--out", out, "--json"], { env }), 0);
  assert.deepEqual(made.files, [out]);
  assert.match(made.backup_id, /^[0-9a-f]{32}$/);
  assert.ok(made.keys >= 4);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  assert.match(expect(cli(["backup", "create", "--out", out], { env }), 0).stdout, /^backup_id: [0-9a-f]{32}$/m);
  const shared = expectJson(cli(["backup", "create", "--out", join(work, "shared.sigil"), "--shares", "2/3", "--json"]), 0);
  assert.equal(shared.files.length, 4);
  for (const bad of ["2/3x", "2of3", "5/3"]) {
    assert.ok(expectJson(cli(["backup", "create", "--out", join(work, "x.sigil"), "--shares", bad, "--json"]), 2, bad).error);
  }
  assert.ok(!existsSync(join(work, "x.sigil")));
  expectError(cli(["backup", "create", "--out", join(work, "no", "b.sigil"), "--shares", "2/3"]), 2, /is not a folder/);
  expectError(cli(["backup", "create", "--out", out], { env: { SIGIL_BACKUP_PASSPHRASE_FILE: join(work, "none") } }), 2);
  expectError(cli(["backup", "create", "--out", join(work, "y.sigil")], { env, token: agent }), 1, /admin only/);

  const dir = join(work, "restored");
  const restored = expectJson(cli(["backup", "restore", out, "--data", dir, "--json"], { env, url: closedUrl }), 0);
  assert.equal(restored.data_dir, dir);
  assert.ok(restored.key_versions_restored >= made.keys);
  assert.ok(existsSync(restored.admin_token_file));
  expectError(cli(["backup", "restore", out, "--data", dir], { env }), 2, /already holds a keystore/);
  expectError(cli(["backup", "restore", out]), 2, /--data is required/);
  expectError(cli(["backup", "restore", join(work, "shared.sigil"), `${join(work, "shared.sigil")}.1`, "--data", join(work, "r2")], { env }), 2, /needs 2 of 3/);

  const pass = { SIGIL_PASSPHRASE_FILE: join(work, "master.pass") };
  const init = expectJson(cli(["init", "--data", join(work, "fresh"), "--json"], { env: pass }), 0);
  assert.equal(init.data_dir, join(work, "fresh"));
  assert.equal(init.admin_token_file, join(work, "fresh", "admin.token"));
  assert.match(expect(cli(["init", "--data", join(work, "fresh2")], { env: pass }), 0).stdout, /^initialised /);
  expectError(cli(["init", "--data", join(work, "fresh"), "--json"], { env: pass }), 2, /already holds a keystore/);
  expectError(cli(["init", "--data", join(work, "fresh3")]), 2, /no master key source/);
  expectError(cli(["init"]), 2, /--data is required/);
});

test("mcp starts on stdio and answers initialize", { skip, timeout: 20000 }, async () => {
  const child = spawn(SIGIL_BIN, ["mcp"], { env: { ...cleanEnv(), SIGIL_URL: sigil.url, SIGIL_TOKEN: agent }, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  const line = new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
    });
    child.once("exit", (code) => reject(new Error(`sigil mcp exited ${code} before answering`)));
  });
  child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize",
    params: { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "sweep", version: "1" } } }) + "\n");
  const answer = JSON.parse(await line);
  assert.equal(answer.id, 1);
  assert.equal(answer.result.serverInfo.name, "sigil");
  assert.ok(answer.result.capabilities.tools);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.stdin.end();  // end of input ends the server
  assert.equal(await exited, 0);
  expectError(cli(["mcp"], { token: null }), 2, /SIGIL_TOKEN/);
});

test("the daemon is found through --url / SIGIL_URL, http:// and unix:PATH; unavailable is 3", { skip }, () => {
  assert.equal(expectJson(cli(["lockdown", "status", "--json"], { url: `unix:${sock}` }), 0).locked, false);
  assert.equal(expectJson(cli(["lockdown", "status", "--json", "--url", `unix:${sock}`], { url: closedUrl }), 0).locked, false);
  assert.equal(expectJson(cli(["lockdown", "status", "--json", "--url", sigil.url + "/"], { url: closedUrl }), 0).locked, false);
  assert.equal(expectJson(cli(["key", "list", "--json"], { url: `unix:${sock}` }), 0).keys.length > 0, true);

  const down = expectJson(cli(["key", "list", "--json"], { url: closedUrl }), 3);
  assert.match(down.error, /cannot reach sigil daemon/);
  expectError(cli(["lockdown", "status", "--url", closedUrl]), 3, /cannot reach sigil daemon at http:\/\/127\.0\.0\.1:\d+: connection refused/);
  expectError(cli(["lockdown", "status"], { url: "unix:/nonexistent/sigil.sock" }), 3, /no socket at that path/);
  expectError(cli(["audit", "export", "--out", join(work, "down.sigil")], { url: closedUrl }), 3);
  assert.ok(!existsSync(join(work, "down.sigil")));
  // A malformed URL is bad input, not an unavailable daemon.
  for (const url of ["ftp://x", "unix:", "http://user:pw@127.0.0.1:1", "not a url"]) {
    const r = expectError(cli(["lockdown", "status", "--url", url]), 2, /invalid URL/, url);
    assert.doesNotMatch(r.stderr, /pw@/);
  }
});

test("the token comes from --token, SIGIL_TOKEN or --data DIR/admin.token, and is never printed", { skip }, () => {
  assert.equal(expect(cli(["token", "list", "--json", "--token", admin], { token: null }), 0).code, 0);
  assert.equal(expect(cli(["token", "list", "--json"], { token: admin }), 0).code, 0);
  assert.equal(expect(cli(["token", "list", "--json", "--data", sigil.dataDir], { token: null }), 0).code, 0);
  // --data is a flag and beats an agent token left in the environment.
  assert.equal(expect(cli(["token", "list", "--json", "--data", sigil.dataDir], { token: agent }), 0).code, 0);
  // ... and --token beats both.
  expectError(cli(["token", "list", "--data", sigil.dataDir, "--token", agent], { token: admin }), 1, /may not/);
  expectError(cli(["token", "list", "--data", join(work, "nodir")], { token: null }), 2, /admin\.token is not readable/);
  // A trailing line end (a token pasted from a file) is trimmed.
  expect(cli(["lockdown", "status"], { token: admin + "\r\n" }), 0);

  // Refusals: exit 1, and the token is not in any output.
  const bogus = "sgl_" + "ab".repeat(40);
  for (const r of [cli(["key", "list", "--json"], { token: bogus }), cli(["key", "list", "--json", "--token", bogus], { token: null })]) {
    assert.match(expectJson(r, 1).error, /invalid, expired or revoked token/);
    assert.doesNotMatch(r.stderr + r.stdout, new RegExp(bogus));
  }
  const none = expectError(cli(["key", "list"], { token: null, cwd: work }), 1, /missing bearer token/);
  assert.equal(none.stdout, "");
  // A token that cannot be one (a line break inside) is bad input, not sent.
  const broken = expectError(cli(["key", "list", "--token", "sgl_secretvalue\nX-Injected: 1"], { token: null }), 2, /the token from --token contains/);
  assert.doesNotMatch(broken.stderr, /secretvalue/);
  const env = expectError(cli(["key", "list"], { token: "sgl_secretvalue two" }), 2, /the token from SIGIL_TOKEN contains/);
  assert.doesNotMatch(env.stderr, /secretvalue/);
  // SIGIL_URL set to the token by mistake: the message does not quote it.
  const swapped = expectError(cli(["key", "list"], { url: admin }), 2, /invalid URL/);
  assert.doesNotMatch(swapped.stderr, new RegExp(admin));
  // The admin token appears in no error of this sweep's refusals either.
  for (const r of [cli(["key", "create", "trader"]), cli(["policy", "apply", join(work, "bad.json")]), cli(["lockdown", "off", "--totp", "000000"])]) {
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stderr + r.stdout, new RegExp(admin));
  }
});

// Last: it damages the live log. A log that does not verify is a verdict
// (exit 1, the report printed), as for an export verified offline.
test("audit verify of a damaged live log exits 1 with the report", { skip }, () => {
  // One byte flipped in place, under the running daemon.
  const path = join(sigil.dataDir, "audit.log");
  const at = Math.floor(statSync(path).size / 2);
  const fd = openSync(path, "r+");
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] ^= 1;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
  const r = expectJson(cli(["audit", "verify", "--json"]), 1);
  assert.equal(r.valid, false);
  assert.ok(r.errors.length > 0);
  assert.match(r.errors[0].what, /damaged|mismatch|checksum/);
  const readable = expect(cli(["audit", "verify"]), 1);
  assert.match(readable.stdout, /^valid: false$/m);
  assert.match(readable.stderr, /the audit log does not verify/);
});

test("local commands: --json failures print {\"error\"} on stdout; a stray token is not echoed", { skip }, () => {
  for (const [args, code, pattern] of [
    [["init", "--data", "/", "--json"], 2, /refusing/],
    [["policy", "test", join(work, "missing.json"), "--cases", join(work, "missing.json"), "--json"], 2, /cannot read/],
    [["backup", "restore", join(work, "missing.sigil"), "--data", join(work, "never"), "--json"], 2, /./],
    [["audit", "verify", "--file", join(work, "missing.sigil"), "--pubkey", "00", "--json"], 2, /cannot read/],
  ]) {
    const j = expectJson(cli(args), code, args.join(" "));
    assert.match(j.error, pattern, args.join(" "));
  }
  const stray = "sgl_0123456789abcdef" + "ab".repeat(32);
  const r = expectError(cli(["key", "list", stray]), 2, /not expected/);
  assert.ok(!(r.stdout + r.stderr).includes(stray.slice(4)), r.stderr);
});

// A stand-in for whatever answers at --url (a wrong SIGIL_URL, a broken
// proxy): it records the Authorization header and answers what it is told.
async function withFakeDaemon(answer, fn) {
  const seen = [];
  const { createServer } = await import("node:http");
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    const { status, body, type } = answer(req);
    res.writeHead(status, { "content-type": type || "application/json" });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    return await fn(`http://127.0.0.1:${server.address().port}`, seen);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

// spawnSync would block the event loop the fake daemon answers on.
function cliAsync(args, { env = {}, cwd = work } = {}) {
  return new Promise((resolve) => {
    const child = spawn(SIGIL_BIN, args, { env: { ...cleanEnv(), ...env }, cwd });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

test("an answer nested a million deep is exit 3, not a crash", { skip }, async () => {
  const deep = "[".repeat(1000000) + "]".repeat(1000000);
  await withFakeDaemon(() => ({ status: 200, body: deep }), async (url) => {
    for (const extra of [[], ["--json"]]) {
      const r = await cliAsync(["key", "list", "--url", url, "--token", "sgl_" + "1".repeat(80), ...extra]);
      assert.equal(r.signal, null, r.stderr);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /nested deeper than 64/);
    }
  });
});

test("an empty --token or SIGIL_TOKEN is exit 2 and nothing is sent, never another token", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "sigil-cli-tok-"));
  const { mkdirSync } = await import("node:fs");
  mkdirSync(join(dir, ".sigil-dev"));
  writeFileSync(join(dir, ".sigil-dev", "admin.token"), "sgl_" + "a".repeat(80) + "\n");
  try {
    await withFakeDaemon(() => ({ status: 200, body: '{"keys":[]}' }), async (url, seen) => {
      for (const [args, env, pattern] of [
        [["key", "list", "--url", url, "--token", ""], {}, /--token is empty/],
        [["key", "list", "--url", url], { SIGIL_TOKEN: "" }, /SIGIL_TOKEN is set but empty/],
        [["key", "list", "--url", url, "--token", " "], { SIGIL_TOKEN: "sgl_" + "b".repeat(80) }, /--token is empty/],
      ]) {
        const r = await cliAsync(args, { env, cwd: dir });
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, pattern);
      }
      assert.deepEqual(seen, [], "a request went out");
      // Without any token the dev directory's admin token is still the default.
      assert.equal((await cliAsync(["key", "list", "--url", url], { cwd: dir })).code, 0);
      assert.deepEqual(seen, ["Bearer sgl_" + "a".repeat(80)]);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tokens quoted in a daemon's answer are redacted, with --json too and across the 2000-character cut", { skip }, async () => {
  const mine = "sgl_" + "c".repeat(80);
  const other = "sgl_" + "d".repeat(80);
  const answers = [
    { status: 403, body: JSON.stringify({ error: `bad Bearer ${mine}; also saw ${other}` }) },
    { status: 500, body: "x".repeat(1970) + "Bearer " + mine, type: "text/plain" },  // the cut at 2000 falls inside the token
  ];
  let i = 0;
  await withFakeDaemon(() => answers[Math.min(i++, answers.length - 1)], async (url) => {
    for (const extra of [["--json"], []]) {
      i = 0;
      for (let k = 0; k < answers.length; ++k) {
        const r = await cliAsync(["key", "list", "--url", url, "--token", mine, ...extra]);
        const out = r.stdout + r.stderr;
        assert.notEqual(r.code, 0);
        for (const secret of [mine.slice(4, 16), other.slice(4, 16)]) {
          assert.ok(!out.includes(secret), `answer ${k} ${extra}: ${out.slice(-300)}`);
        }
      }
    }
  });
});

test("--data DIR whose admin.token is /dev/zero is refused at once (bounded read)", { skip, timeout: 20000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "sigil-cli-zero-"));
  const { symlinkSync } = await import("node:fs");
  symlinkSync("/dev/zero", join(dir, "admin.token"));
  try {
    const r = await cliAsync(["key", "list", "--url", "http://127.0.0.1:1", "--data", dir]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /admin\.token is not readable/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
