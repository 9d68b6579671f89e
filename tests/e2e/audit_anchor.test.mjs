// The daemon anchors its audit log in its store (doc/audit-log.md §6): an
// audit.log deleted or put back to an older copy while the daemon was stopped
// is refused at start, until the operator accepts the loss with
// --accept-audit-log-loss, which the new log records first and `audit verify`
// reports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, rmSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { SigilServer, SIGIL_BIN, freePort } from "./lib/harness.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;

function refusedStart(dataDir, port) {
  const r = spawnSync(SIGIL_BIN, ["server", "--dev", "--data", dataDir, "--listen", `127.0.0.1:${port}`],
                      { encoding: "utf8", timeout: 30000 });
  return { code: r.status, output: (r.stdout || "") + (r.stderr || "") };
}

test("a deleted or older audit.log is refused at start; --accept-audit-log-loss starts a log that says so", { skip }, async () => {
  const port = await freePort();
  let sigil = await new SigilServer({ port }).start();
  const dataDir = sigil.dataDir;
  const log = join(dataDir, "audit.log");
  try {
    assert.equal(sigil.cli(["key", "create", "trader"]).code, 0);
    await sigil.stop();
    copyFileSync(log, join(dataDir, "..", `older-${port}.log`));
    sigil = await new SigilServer({ dataDir, port }).start();
    assert.equal(sigil.cli(["key", "create", "second"]).code, 0);
    await sigil.stop();

    // An older copy put back: cut records.
    copyFileSync(join(dataDir, "..", `older-${port}.log`), log);
    const size = statSync(log).size;
    let refused = refusedStart(dataDir, port);
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, /records were cut/);
    assert.match(refused.output, /--accept-audit-log-loss/);
    assert.equal(statSync(log).size, size, "the refused start wrote nothing");

    // Deleted.
    rmSync(log);
    refused = refusedStart(dataDir, port);
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, /it was deleted/);

    // Accepted once: the new log begins with the admission.
    sigil = await new SigilServer({ dataDir, port, extraArgs: ["--accept-audit-log-loss"] }).start();
    const verify = sigil.cli(["audit", "verify", "--json"]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.json.valid, true);
    assert.equal(verify.json.discontinuities.length, 1);
    assert.equal(verify.json.discontinuities[0].seq, 0);
    assert.ok(verify.json.discontinuities[0].anchored_size > 0);
    assert.match(verify.json.discontinuities[0].reason, /deleted/);
    await sigil.stop();

    // The new log is the anchored one: a plain start works again, keys intact.
    sigil = await new SigilServer({ dataDir, port }).start();
    const keys = sigil.cli(["key", "list", "--json"]);
    assert.equal(keys.code, 0, keys.stderr);
    assert.match(keys.stdout, /trader/);
  } finally {
    await sigil.stop();
    rmSync(join(dataDir, "..", `older-${port}.log`), { force: true });
  }
});
