// Test harness: starts real processes (sigil dev server, hardhat node) on free
// loopback ports in temp directories, and stops them by process group.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, existsSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";

const here = dirname(fileURLToPath(import.meta.url));
export const E2E_DIR = join(here, "..");
export const SIGIL_BIN = process.env.SIGIL_BIN || join(E2E_DIR, "../../build/sigil");

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (e) {
      lastErr = e;
    }
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? ": " + lastErr.message : ""}`);
}

function startGroup(cmd, args, opts) {
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  return { child, output: () => out };
}

function killGroup(child, signal = "SIGTERM") {
  try {
    process.kill(-child.pid, signal);
  } catch {}
}

async function stopGroup(child, timeoutMs = 10000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  killGroup(child, "SIGTERM");
  const t = setTimeout(() => killGroup(child, "SIGKILL"), timeoutMs);
  await exited;
  clearTimeout(t);
}

// A sigil dev server in its own data directory.
export class SigilServer {
  constructor({ dataDir, port, extraArgs = [], env = {} } = {}) {
    this.dataDir = dataDir || mkdtempSync(join(tmpdir(), "sigil-e2e-"));
    this.port = port;
    this.extraArgs = extraArgs;
    this.env = env;
  }
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  get adminToken() {
    return readFileSync(join(this.dataDir, "admin.token"), "utf8").trim();
  }
  async start() {
    if (!this.port) this.port = await freePort();
    const args = ["server", "--dev", "--data", this.dataDir, "--listen", `127.0.0.1:${this.port}`, ...this.extraArgs];
    this.proc = startGroup(SIGIL_BIN, args, { env: { ...process.env, ...this.env } });
    await waitFor(async () => {
      if (this.proc.child.exitCode !== null) throw new Error("sigil exited: " + this.proc.output());
      const r = await fetch(this.url + "/healthz");
      return r.ok;
    }, "sigil /healthz");
    return this;
  }
  output() {
    return this.proc ? this.proc.output() : "";
  }
  async stop() {
    if (this.proc) await stopGroup(this.proc.child);
  }
  kill9() {
    if (this.proc) killGroup(this.proc.child, "SIGKILL");
  }
  // SIGKILL, then wait until the process is gone (its port and locks free).
  async kill9AndWait() {
    if (!this.proc) return;
    const child = this.proc.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    killGroup(child, "SIGKILL");
    await exited;
  }
  // Runs the CLI against this server; returns {code, stdout, stderr, json}.
  cli(args, { token, env = {}, input } = {}) {
    const fullEnv = { ...process.env, SIGIL_URL: this.url, SIGIL_TOKEN: token || this.adminToken, ...env };
    try {
      const stdout = execFileSync(SIGIL_BIN, args, { env: fullEnv, input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
      return { code: 0, stdout, stderr: "", json: tryJson(stdout) };
    } catch (e) {
      return { code: e.status, stdout: e.stdout || "", stderr: e.stderr || "", json: tryJson(e.stdout || "") };
    }
  }
  async rpc(method, params = [], { token } = {}) {
    const r = await fetch(this.url + "/rpc", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token || this.adminToken}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    return r.json();
  }
  async rest(method, path, body, { token } = {}) {
    const r = await fetch(this.url + path, {
      method,
      headers: { "content-type": "application/json", authorization: `Bearer ${token || this.adminToken}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, json: tryJson(text), text };
  }
}

function tryJson(s) {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

// A hardhat 2 node, offline, on a free loopback port.
export class HardhatNode {
  async start() {
    this.port = await freePort();
    // Hardhat insists on a local installation: the project directory must
    // resolve node_modules/hardhat, so it lives under tests/e2e/.work.
    mkdirSync(join(E2E_DIR, ".work"), { recursive: true });
    this.dir = mkdtempSync(join(E2E_DIR, ".work", "hh-"));
    writeFileSync(join(this.dir, "hardhat.config.cjs"), "module.exports = { networks: { hardhat: { chainId: 31337 } } };\n");
    const bootstrap = join(E2E_DIR, "node_modules/hardhat/internal/cli/bootstrap.js");
    this.proc = startGroup(process.execPath, [bootstrap, "node", "--hostname", "127.0.0.1", "--port", String(this.port)], {
      cwd: this.dir,
      env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
    });
    await waitFor(() => {
      if (this.proc.child.exitCode !== null) throw new Error("hardhat exited: " + this.proc.output());
      return this.proc.output().includes("Started HTTP");
    }, "hardhat node", 90000);
    return this;
  }
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  async stop() {
    if (this.proc) await stopGroup(this.proc.child);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

// Hardhat's well-known funded dev account #0.
export const DEV_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
