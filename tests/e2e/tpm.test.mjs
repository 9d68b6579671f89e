// TPM 2.0 end to end against a private swtpm: the dev daemon seals its
// master key to the TPM (PCR 16 = its binary + configuration), restarts,
// refuses to start when the measured configuration changed, re-seals on
// request, detects a rolled-back data directory with the NV counter, and
// serves tpm2 attestation reports that verify offline (and fail for a wrong
// nonce or an altered PCR value).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { SigilServer, SIGIL_BIN, freePort, sleep } from "./lib/harness.mjs";

const haveSwtpm = spawnSync("swtpm", ["--version"]).status === 0;
const skip = (!existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`) || (!haveSwtpm && "swtpm not installed");

function canBind(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

// swtpm on P (server) and P+1 (control), as the swtpm TCTI expects.
async function startSwtpm() {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort();
    if (port >= 65535 || !(await canBind(port + 1))) continue;
    const dir = mkdtempSync(join(tmpdir(), "sigil-swtpm-"));
    const child = spawn("swtpm", ["socket", "--tpm2", "--tpmstate", `dir=${dir}`,
      "--server", `type=tcp,port=${port},bindaddr=127.0.0.1`,
      "--ctrl", `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
      "--flags", "not-need-init,startup-clear"], { stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) break;
      const up = await new Promise((resolve) => {
        const c = net.connect(port, "127.0.0.1", () => { c.destroy(); resolve(true); });
        c.once("error", () => resolve(false));
      });
      if (up) {
        return {
          tcti: `swtpm:host=127.0.0.1,port=${port}`,
          async stop() {
            if (child.exitCode === null) {
              const exited = new Promise((r) => child.once("exit", r));
              child.kill("SIGTERM");
              await exited;
            }
            rmSync(dir, { recursive: true, force: true });
          },
        };
      }
      await sleep(50);
    }
    child.kill("SIGKILL");
  }
  throw new Error("swtpm did not start");
}

// Runs `sigil server` expecting it to refuse to start; returns {code, output}.
function refusedStart(args) {
  const r = spawnSync(SIGIL_BIN, ["server", ...args], { encoding: "utf8", timeout: 30000 });
  return { code: r.status, output: (r.stdout || "") + (r.stderr || "") };
}

test("master key sealed to the TPM: restart, changed configuration refused, reseal, attestation", { skip }, async () => {
  const tpm = await startSwtpm();
  const dataDir = mkdtempSync(join(tmpdir(), "sigil-tpm-"));
  const port = await freePort();
  let sigil = new SigilServer({ dataDir, port, extraArgs: ["--tpm-tcti", tpm.tcti] });
  try {
    await sigil.start();
    assert.ok(existsSync(join(dataDir, "master.tpm")), "the master key is sealed to the TPM");
    assert.ok(!existsSync(join(dataDir, "master.key")), "no plaintext master key file with a TPM");
    const key = sigil.cli(["key", "create", "trader", "--json"]);
    assert.equal(key.code, 0, key.stderr);

    // Attestation on platform tpm2.
    const nonce = randomBytes(32).toString("hex");
    const out = join(dataDir, "..", `report-${port}.json`);
    const got = sigil.cli(["attest", "get", "--nonce", nonce, "--out", out, "--json"]);
    assert.equal(got.code, 0, got.stderr);
    const report = JSON.parse(readFileSync(out, "utf8"));
    assert.equal(report.platform, "tpm2");
    assert.deepEqual(report.tpm_quote.pcrs, [16]);
    const pcr16 = report.tpm_quote.pcr_values[0];
    const ok = sigil.cli(["attest", "verify", out, "--nonce", nonce, "--allow-debug", "--json",
                          "--expected-pcr", `16:${pcr16}`, "--tpm-ak", report.tpm_quote.ak_public]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(ok.json.valid, true);
    assert.equal(ok.json.tpm_ak_pinned, true);
    const wrongNonce = sigil.cli(["attest", "verify", out, "--nonce", randomBytes(32).toString("hex"), "--allow-debug", "--json"]);
    assert.equal(wrongNonce.code, 1);
    assert.ok(wrongNonce.json.errors.some((e) => e.code === "nonce_mismatch"), wrongNonce.stdout);
    const wrongPcr = sigil.cli(["attest", "verify", out, "--nonce", nonce, "--allow-debug", "--json",
                                "--expected-pcr", `16:${"ab".repeat(32)}`]);
    assert.equal(wrongPcr.code, 1);
    assert.ok(wrongPcr.json.errors.some((e) => e.code === "pcr_mismatch"), wrongPcr.stdout);
    // An altered PCR value in the report (signature aside) no longer matches the quote.
    const altered = structuredClone(report);
    altered.tpm_quote.pcr_values[0] = "00".repeat(32);
    const alteredFile = out + ".altered";
    writeFileSync(alteredFile, JSON.stringify(altered));
    const bad = sigil.cli(["attest", "verify", alteredFile, "--nonce", nonce, "--allow-debug", "--json"]);
    assert.equal(bad.code, 1);
    const codes = bad.json.errors.map((e) => e.code);
    assert.ok(codes.includes("tpm_pcr_digest_mismatch") && codes.includes("bad_signature"), bad.stdout);

    // Restart with the same binary and configuration: unseals, same keys.
    await sigil.stop();
    sigil = new SigilServer({ dataDir, port, extraArgs: ["--tpm-tcti", tpm.tcti] });
    await sigil.start();
    const listed = sigil.cli(["key", "show", "trader", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.json.address, key.json.address);
    await sigil.stop();

    // A changed configuration (another listen address) is another measurement: refused.
    const otherPort = await freePort();
    const refused = refusedStart(["--dev", "--data", dataDir, "--listen", `127.0.0.1:${otherPort}`, "--tpm-tcti", tpm.tcti]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, /TPM refused to unseal the master key: the measured binary or configuration changed/);

    // The original configuration still starts (the refusal changed nothing).
    sigil = new SigilServer({ dataDir, port, extraArgs: ["--tpm-tcti", tpm.tcti] });
    await sigil.start();
    await sigil.stop();

    // Re-seal to the new configuration on purpose; then it starts, with the same keys.
    sigil = new SigilServer({ dataDir, port: otherPort, extraArgs: ["--tpm-tcti", tpm.tcti, "--tpm-reseal"] });
    await sigil.start();
    await sigil.stop();
    sigil = new SigilServer({ dataDir, port: otherPort, extraArgs: ["--tpm-tcti", tpm.tcti] });
    await sigil.start();
    const after = sigil.cli(["key", "show", "trader", "--json"]);
    assert.equal(after.json.address, key.json.address);
  } finally {
    await sigil.stop();
    await tpm.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("NV counter: a restored older copy of the data directory is refused", { skip }, async () => {
  const tpm = await startSwtpm();
  const work = mkdtempSync(join(tmpdir(), "sigil-tpm-rb-"));
  const dataDir = join(work, "data");
  const config = join(work, "sigil.toml");
  writeFileSync(config, `[tpm]\ntcti = "${tpm.tcti}"\nnv_counter = true\n`);
  const port = await freePort();
  const start = () => new SigilServer({ dataDir, port, extraArgs: ["--config", config] }).start();
  let sigil;
  try {
    sigil = await start();
    await sigil.stop();
    // The counter's settings are measured: turning it off does not unseal
    // the master key (it would disable the rollback check unnoticed).
    const off = join(work, "off.toml");
    writeFileSync(off, `[tpm]\ntcti = "${tpm.tcti}"\nnv_counter = false\n`);
    const unmeasured = refusedStart(["--config", off, "--dev", "--data", dataDir, "--listen", `127.0.0.1:${port}`]);
    assert.notEqual(unmeasured.code, 0);
    assert.match(unmeasured.output, /measured binary or configuration changed/);
    cpSync(dataDir, join(work, "copy"), { recursive: true });  // a backup of the data directory
    sigil = await start();
    await sigil.stop();
    rmSync(dataDir, { recursive: true, force: true });
    cpSync(join(work, "copy"), dataDir, { recursive: true });  // restore the older copy
    const refused = refusedStart(["--config", config, "--dev", "--data", dataDir, "--listen", `127.0.0.1:${port}`]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, /rollback detected/);
  } finally {
    if (sigil) await sigil.stop();
    await tpm.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
