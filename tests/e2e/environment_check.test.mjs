// attest check reports each unsafe condition; with require_environment_check
// the daemon refuses to sign (-32006) while the check fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { SigilServer, SIGIL_BIN } from "./lib/harness.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;

test("require_environment_check refuses to sign in dev mode; attest get/verify round trip", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "sigil-env-"));
  const config = join(dir, "sigil.toml");
  writeFileSync(config, `require_environment_check = true\n`);
  const sigil = await new SigilServer({ extraArgs: ["--config", config] }).start();
  try {
    const key = sigil.cli(["key", "create", "trader", "--json"]);
    assert.equal(key.code, 0, key.stderr);
    writeFileSync(join(dir, "p.json"), JSON.stringify({ version: 1, rules: [{ id: "all", effect: "allow", match: { kind: "eth_message" } }] }));
    assert.equal(sigil.cli(["policy", "apply", join(dir, "p.json")]).code, 0);
    const check = sigil.cli(["attest", "check", "--json"]);
    assert.equal(check.code, 1, check.stderr);  // a failing check is a refusal, as `attest verify` is
    assert.equal(check.json.valid, false);
    assert.ok(check.json.errors.some((e) => e.code === "dev_mode"), JSON.stringify(check.json));
    const r = await sigil.rpc("personal_sign", ["0x68656c6c6f", key.json.address]);
    assert.equal(r.error.code, -32006, JSON.stringify(r));
    assert.match(r.error.message, /environment check failed/);

    // Attestation: fetch with a fresh nonce, verify offline; a wrong nonce fails.
    const nonce = randomBytes(32).toString("hex");
    const out = join(dir, "report.json");
    const got = sigil.cli(["attest", "get", "--nonce", nonce, "--out", out, "--json"]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.json.debug, true);
    // Keys carry their chain address as the API shows it (EIP-55 with 0x).
    const attested = got.json.keys.find((k) => k.name === "trader");
    assert.equal(attested.address, key.json.address);
    const ok = sigil.cli(["attest", "verify", out, "--nonce", nonce, "--allow-debug", "--json"]);
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal(ok.json.valid, true);
    const noDebug = sigil.cli(["attest", "verify", out, "--nonce", nonce, "--json"]);
    assert.equal(noDebug.code, 1);
    assert.ok(noDebug.json.errors.some((e) => e.code === "debug_not_allowed"));
    const replay = sigil.cli(["attest", "verify", out, "--nonce", randomBytes(32).toString("hex"), "--allow-debug", "--json"]);
    assert.equal(replay.code, 1);
    assert.ok(replay.json.errors.some((e) => e.code === "nonce_mismatch"));

    // A refused `attest get` says why on stderr, prints nothing on stdout and
    // writes no report.
    const badOut = join(dir, "bad-report.json");
    const bad = sigil.cli(["attest", "get", "--nonce", "not-hex", "--out", badOut]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(bad.stdout, "");
    assert.match(bad.stderr, /nonce/);
    assert.equal(existsSync(badOut), false);
  } finally {
    await sigil.stop();
  }
});
