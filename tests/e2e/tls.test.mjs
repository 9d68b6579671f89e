// The daemon behind TLS, configured from a TOML file: the CLI talks to it
// over https:// trusting the daemon's certificate through SIGIL_CA_FILE, a
// JSON-RPC client signs over it, plain HTTP to the TLS port gets nothing,
// and an untrusted client refuses the certificate.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SIGIL_BIN, freePort, sleep } from "./lib/harness.mjs";

function haveOpenssl() {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const skip = (!existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`) || (!haveOpenssl() && "openssl not installed");

function rpc(port, ca, token, method, params) {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port, path: "/rpc", method: "POST", ca,
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "content-length": Buffer.byteLength(body) } },
      (res) => {
        let data = "";
        res.on("data", (d) => (data += d));
        res.on("end", () => resolve(JSON.parse(data)));
      });
    req.on("error", reject);
    req.end(body);
  });
}

test("TLS listener from the config file: CLI over https with SIGIL_CA_FILE, JSON-RPC signing, untrusted refused", { skip, timeout: 120000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "sigil-tls-"));
  const cert = join(dir, "cert.pem"), key = join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert], { stdio: "ignore" });
  const port = await freePort();
  const data = join(dir, "data");
  const config = join(dir, "sigil.toml");
  writeFileSync(config, `dev = true\ndata_dir = "${data}"\n[server]\nlisten = ["127.0.0.1:${port}"]\ntls_cert = "${cert}"\ntls_key = "${key}"\n`);
  const child = spawn(SIGIL_BIN, ["server", "--config", config], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const url = `https://127.0.0.1:${port}`;
  const env = { ...process.env, SIGIL_URL: url, SIGIL_CA_FILE: cert, SIGIL_DATA: "" };
  const cli = (args, extra = {}) => {
    try {
      return { code: 0, stdout: execFileSync(SIGIL_BIN, [...args, "--data", data], { env: { ...env, ...extra }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
    } catch (e) {
      return { code: e.status, stdout: e.stdout || "", stderr: e.stderr || "" };
    }
  };
  try {
    // The banner comes once the listeners are bound.
    for (let i = 0; i < 200 && !/listening on/.test(out); i++) {
      if (child.exitCode !== null) throw new Error("sigil exited: " + out);
      await sleep(100);
    }
    assert.match(out, new RegExp(`listening on https://127\\.0\\.0\\.1:${port}`), out);
    const status = cli(["lockdown", "status", "--json"]);
    assert.equal(status.code, 0, status.stderr);
    const made = cli(["key", "create", "trader", "--json"]);
    assert.equal(made.code, 0, made.stderr);
    const address = JSON.parse(made.stdout).address;
    const policy = join(dir, "p.json");
    writeFileSync(policy, JSON.stringify({ version: 1, rules: [{ id: "msgs", effect: "allow", match: { kind: "eth_message" } }] }));
    assert.equal(cli(["policy", "apply", policy]).code, 0);
    const admin = readFileSync(join(data, "admin.token"), "utf8").trim();
    const signed = await rpc(port, readFileSync(cert), admin, "personal_sign", ["0x68656c6c6f", address]);
    assert.match(signed.result, /^0x[0-9a-f]{130}$/, JSON.stringify(signed));
    // Without the CA the CLI refuses the certificate (exit 3, daemon unreachable as trusted).
    const untrusted = cli(["lockdown", "status"], { SIGIL_CA_FILE: "" });
    assert.equal(untrusted.code, 3, untrusted.stderr);
    assert.match(untrusted.stderr, /certificate|verify|TLS/i);
    // Plain HTTP to the TLS port is not served.
    const plain = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => "refused");
    assert.notEqual(plain, 200);
  } finally {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
  }
});
