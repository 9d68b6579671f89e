// Canary test (DESIGN.md invariant 1): a private key known only to this test
// is imported, used, backed up, rotated and pushed through error paths; then
// every place it could have leaked to is searched for it: each file of the data
// directory (SQLite db, WAL, journals, audit log), the daemon's stdout/stderr,
// the CLI outputs, the backup file, and a core dump of the live daemon taken
// with gcore. The key must appear nowhere, in any encoding: raw, reversed raw
// (libsecp256k1 keeps scalars as little-endian limbs), hex in either case,
// base64 and base64url at every byte alignment.
//
// Core dumps: the daemon is started with `allow_core_dumps = true` (otherwise
// it sets PR_SET_DUMPABLE off and gcore cannot attach); secret pages are
// MADV_DONTDUMP, which gcore honours (VmFlags "dd" in /proc/PID/smaps), so
// SecretBytes never reach the dump -- anything found there is a copy that
// escaped SecretBytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Wallet, Transaction, verifyMessage } from "ethers";
import { SigilServer, SIGIL_BIN } from "./lib/harness.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;
const hasGcore = (() => {
  try {
    execFileSync("sh", ["-c", "command -v gcore"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const skipCore = skip || (!hasGcore && "gcore (gdb) is not installed");

// Every encoding of `key` worth looking for, as {name, bytes} needles.
export function canaryNeedles(key) {
  const needles = [];
  const add = (name, s) => needles.push({ name, bytes: typeof s === "string" ? Buffer.from(s, "latin1") : s });
  add("raw", key);
  add("raw reversed", Buffer.from(key).reverse());
  const hex = key.toString("hex");
  add("hex", hex);
  add("HEX", hex.toUpperCase());
  add("0x-hex", "0x" + hex);
  // A key at byte offset s within a larger buffer encodes to base64 whose
  // characters depend on neighbouring bytes only at the edges: keep the
  // complete 3-byte groups made only of key bytes.
  for (let s = 0; s < 3; s++) {
    const padded = Buffer.concat([Buffer.alloc(s), key, Buffer.alloc(3)]);
    const first = Math.ceil(s / 3) * 3;  // first group start >= s
    const last = Math.floor((s + key.length) / 3) * 3;  // group ends <= s + 32
    const inner = padded.subarray(first, last);
    add(`base64 shift ${s}`, inner.toString("base64"));
    add(`base64url shift ${s}`, inner.toString("base64url"));
  }
  return needles;
}

// Fragments of the key long enough (96 bits) never to occur by chance: a
// partial copy (a freed buffer whose start was overwritten, a string cut by a
// reallocation) is a leak too. Windows are spaced so that any copy of at least
// 15 raw bytes, 31 hex digits or 19 base64 characters contains one.
export function canaryFragments(key) {
  const out = [];
  const windows = (name, text, len, step) => {
    const b = Buffer.isBuffer(text) ? text : Buffer.from(text, "latin1");
    for (let i = 0; i + len <= b.length; i += step) out.push({ name: `${name} [${i}, ${i + len})`, bytes: b.subarray(i, i + len) });
  };
  windows("raw fragment", key, 12, 3);
  windows("raw reversed fragment", Buffer.from(key).reverse(), 12, 3);
  windows("hex fragment", key.toString("hex"), 24, 7);
  windows("HEX fragment", key.toString("hex").toUpperCase(), 24, 7);
  for (const n of canaryNeedles(key).filter((x) => x.name.startsWith("base64"))) windows(n.name + " fragment", n.bytes, 16, 3);
  return out;
}

// Returns the names of the needles found in `buf`.
function findNeedles(buf, needles) {
  return needles.filter((n) => buf.indexOf(n.bytes) !== -1).map((n) => n.name);
}

function filesUnder(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

test("the search finds a planted canary in every encoding (control)", () => {
  const key = randomBytes(32);
  const needles = canaryNeedles(key);
  for (const n of needles) {
    for (const pad of [0, 1, 2, 7]) {
      const buf = Buffer.concat([randomBytes(1000 + pad), n.bytes, randomBytes(999)]);
      assert.ok(findNeedles(buf, needles).includes(n.name), `${n.name} at pad ${pad}`);
    }
  }
  // base64 of the key embedded at each alignment of a larger buffer is found.
  for (let s = 0; s < 6; s++) {
    const buf = Buffer.concat([randomBytes(s + 30), key, randomBytes(40)]);
    assert.ok(findNeedles(Buffer.from(buf.toString("base64")), needles).some((x) => x.startsWith("base64 ")), `base64 shift ${s}`);
    assert.ok(findNeedles(Buffer.from(buf.toString("base64url")), needles).some((x) => x.startsWith("base64")), `base64url shift ${s}`);
    assert.ok(findNeedles(Buffer.from(buf.toString("hex").toUpperCase()), needles).includes("HEX"));
  }
  // Another key is not found (no needle is trivially short).
  assert.deepEqual(findNeedles(Buffer.concat([randomBytes(4096)]), needles), []);
  for (const n of needles) assert.ok(n.bytes.length >= 32, n.name);
  // Fragments: a 16-byte piece of the raw key, 32 hex digits, 20 base64 characters are found.
  const fragments = canaryFragments(key);
  for (const n of fragments) assert.ok(n.bytes.length >= 12, n.name);
  for (let start = 0; start + 16 <= 32; start++) {
    assert.ok(findNeedles(Buffer.concat([randomBytes(50), key.subarray(start, start + 16), randomBytes(50)]), fragments).length > 0, `raw piece ${start}`);
  }
  const hex = key.toString("hex");
  for (let start = 0; start + 32 <= 64; start++) {
    assert.ok(findNeedles(Buffer.from("xx" + hex.slice(start, start + 32) + "yy"), fragments).length > 0, `hex piece ${start}`);
  }
  for (let s = 0; s < 3; s++) {
    const b64 = Buffer.concat([randomBytes(s + 3), key, randomBytes(3)]).toString("base64");
    const mid = b64.length >> 1;
    assert.ok(findNeedles(Buffer.from(b64.slice(mid - 10, mid + 10)), fragments).length > 0, `base64 piece shift ${s}`);
  }
  assert.deepEqual(findNeedles(randomBytes(1 << 20), fragments), []);
});

test("no canary key bytes in the data directory, logs, backup or a core dump", { skip: skipCore, timeout: 240000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), "sigil-canary-"));
  const dataDir = join(work, "data");
  const config = join(work, "sigil.toml");
  writeFileSync(config, "allow_key_import = true\nallow_core_dumps = true\n");
  const sigil = new SigilServer({ dataDir, extraArgs: ["--config", config] });
  await sigil.start();
  const outputs = [];  // every CLI/HTTP answer, searched too
  const cli = (args, opts) => {
    const r = sigil.cli(args, opts);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const rpc = async (method, params, opts) => {
    const r = await sigil.rpc(method, params, opts);
    outputs.push(JSON.stringify(r));
    return r;
  };
  const rest = async (...a) => {
    const r = await sigil.rest(...a);
    outputs.push(r.text);
    return r;
  };
  let key;
  let coreFile;
  try {
    // Plant the canary through the admin-only import.
    key = randomBytes(32);
    const wallet = new Wallet("0x" + key.toString("hex"));
    const imp = await rest("POST", "/v1/keys/import", { name: "canary", type: "secp256k1", private_key: key.toString("hex") });
    assert.equal(imp.status, 201, imp.text);
    assert.equal(imp.json.address.toLowerCase(), wallet.address.toLowerCase());

    const policy = join(work, "policy.json");
    writeFileSync(policy, JSON.stringify({
      version: 1,
      lists: { blocked: ["0x000000000000000000000000000000000000dEaD"] },
      rules: [
        { id: "no-blocked", effect: "deny", match: { kind: "eth_tx", to: { in: "@blocked" } }, reason: "recipient is blocked" },
        { id: "small", effect: "allow", match: { kind: "eth_tx", chain_id: [31337], value: { lte: "0.5 ether" } } },
        { id: "messages", effect: "allow", match: { kind: "eth_message" } },
      ],
    }));
    assert.equal(cli(["policy", "apply", policy, "--json"]).code, 0);
    const agentTok = cli(["token", "create", "--role", "agent", "--name", "bot-1", "--keys", "canary", "--json"]);
    assert.equal(agentTok.code, 0, agentTok.stderr);
    const agent = agentTok.json.token;

    // Sign: a transaction and a message, both verified against the canary address.
    const tx = (to, nonce, value = "0x2386f26fc10000") => ({
      from: wallet.address, to, value, gas: "0x5208", maxFeePerGas: "0x3b9aca00", maxPriorityFeePerGas: "0x1",
      nonce, chainId: "0x7a69",
    });
    const signed = await rpc("eth_signTransaction", [tx("0x1111111111111111111111111111111111111111", "0x0")], { token: agent });
    assert.ok(signed.result, JSON.stringify(signed));
    assert.equal(Transaction.from(signed.result).from.toLowerCase(), wallet.address.toLowerCase());
    const msg = await rpc("personal_sign", ["0x68656c6c6f2063616e617279", wallet.address], { token: agent });
    assert.ok(msg.result, JSON.stringify(msg));
    assert.equal(verifyMessage("hello canary", msg.result).toLowerCase(), wallet.address.toLowerCase());

    // Back up under a passphrase.
    const passFile = join(work, "backup.pass");
    writeFileSync(passFile, "canary backup passphrase\n", { mode: 0o600 });
    const backupFile = join(work, "backup.sigil");
    const b = cli(["backup", "create", "--out", backupFile, "--json"], { env: { SIGIL_BACKUP_PASSPHRASE_FILE: passFile } });
    assert.equal(b.code, 0, b.stderr + b.stdout);
    assert.ok(statSync(backupFile).size > 64);

    // Rotate: the canary becomes verify-only; the new version signs.
    const rot = cli(["key", "rotate", "canary", "--json"]);
    assert.equal(rot.code, 0, rot.stderr + rot.stdout);
    const rotatedAddress = rot.json.address;
    assert.notEqual(rotatedAddress.toLowerCase(), wallet.address.toLowerCase());
    const after = await rpc("personal_sign", ["0x6166746572", rotatedAddress], { token: agent });
    assert.ok(after.result, JSON.stringify(after));

    // Error paths with the canary key and its name.
    const old = await rpc("personal_sign", ["0x6f6c64", wallet.address], { token: agent });
    // The retired version must never sign (an error, or at most a signature by another key).
    if (old.result) {
      assert.notEqual(verifyMessage("old", old.result).toLowerCase(), wallet.address.toLowerCase(), "a retired version signed");
    }
    const denied = await rpc("eth_signTransaction", [{ ...tx("0x000000000000000000000000000000000000dEaD", "0x1"), from: rotatedAddress }], { token: agent });
    assert.equal(denied.error?.code, -32003, JSON.stringify(denied));
    const invalid = await rpc("eth_signTransaction", [{ from: rotatedAddress, to: "0x12", value: "lots", chainId: "0x7a69" }], { token: agent });
    assert.equal(invalid.error?.code, -32602, JSON.stringify(invalid));
    const wrongType = await rpc("sigil_signSolanaMessage", ["canary", Buffer.from("hi").toString("base64")]);
    assert.ok(wrongType.error, JSON.stringify(wrongType));
    const wrongNostr = await rpc("sigil_signNostrEvent", ["canary", { created_at: 1, kind: 1, tags: [], content: "x" }]);
    assert.ok(wrongNostr.error || wrongNostr.result, JSON.stringify(wrongNostr));
    const dup = await rest("POST", "/v1/keys/import", { name: "canary", type: "secp256k1", private_key: key.toString("hex") });
    assert.notEqual(dup.status, 201, "importing over an existing name must fail");
    const badHex = await rest("POST", "/v1/keys/import", { name: "canary-bad", type: "secp256k1", private_key: key.toString("hex").slice(0, 63) + "z" });
    assert.equal(badHex.status, 400);
    const unauth = await rest("POST", "/v1/keys/import", { name: "canary-2", private_key: key.toString("hex") }, { token: agent });
    assert.equal(unauth.status, 403);

    // Everything else a client can read.
    assert.equal(cli(["key", "list", "--json"]).code, 0);
    assert.equal(cli(["key", "show", "canary", "--json"]).code, 0);
    const metrics = await fetch(sigil.url + "/metrics", { headers: { authorization: `Bearer ${sigil.adminToken}` } });
    outputs.push(await metrics.text());
    assert.equal(cli(["audit", "verify", "--json"]).code, 0);

    // A core dump of the live daemon.
    const pid = sigil.proc.child.pid;
    const coreBase = join(work, "core");
    execFileSync("gcore", ["-o", coreBase, String(pid)], { stdio: ["ignore", "pipe", "pipe"], timeout: 120000 });
    coreFile = `${coreBase}.${pid}`;
    assert.ok(existsSync(coreFile), "gcore wrote no core file");
    // Sanity: the dump holds the daemon's heap -- it is big, and it holds the
    // non-secret strings the daemon certainly has in memory.
    const core = readFileSync(coreFile);
    assert.ok(core.length > 4 << 20, `core dump is only ${core.length} bytes`);
    assert.ok(core.indexOf(Buffer.from(rotatedAddress.slice(2).toLowerCase())) !== -1 ||
              core.indexOf(Buffer.from(rotatedAddress.slice(2))) !== -1, "the core dump does not hold the heap (no key address)");
    assert.ok(core.indexOf(Buffer.from("recipient is blocked")) !== -1, "the core dump does not hold the policy");

    const needles = [...canaryNeedles(key), ...canaryFragments(key)];
    const leaks = [];
    const check = (what, buf) => {
      for (const n of findNeedles(buf, needles)) leaks.push(`${what}: ${n}`);
    };
    check("core dump", core);
    await sigil.stop();  // flushes logs and the audit log; search the files at rest too
    for (const f of filesUnder(dataDir)) check(f, readFileSync(f));
    check("daemon stdout/stderr", Buffer.from(sigil.output()));
    check("backup file", readFileSync(backupFile));
    check("client outputs", Buffer.from(outputs.join("\n")));
    assert.deepEqual(leaks, [], "canary private key found");
    // Control on real files: the same search finds a planted copy.
    writeFileSync(join(dataDir, "planted"), Buffer.concat([readFileSync(backupFile), Buffer.from(Buffer.concat([randomBytes(1), key, randomBytes(5)]).toString("base64url"))]));
    const planted = [];
    for (const n of findNeedles(readFileSync(join(dataDir, "planted")), needles)) planted.push(n);
    assert.ok(planted.length > 0, "the control copy was not found");
  } finally {
    await sigil.stop();
    if (key) key.fill(0);
    rmSync(work, { recursive: true, force: true });
  }
});
