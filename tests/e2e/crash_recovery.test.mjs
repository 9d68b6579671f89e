// kill -9 during bursts of signing, then restart, many times: the budget is
// never overspent across crashes, every signature a client received has its
// audit record, and the audit log verifies after every restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync, mkdtempSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SigilServer, SIGIL_BIN, sleep } from "./lib/harness.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;
const ROUNDS = Number(process.env.SIGIL_CRASH_ROUNDS || 50);
const BUDGET_COUNT = 120;  // signatures the policy allows in 24h, across all rounds

test(`kill -9 at random points, ${ROUNDS} times: budget holds, receipts are durable`, { skip, timeout: 900000 }, async () => {
  const sigil = await new SigilServer().start();
  const key = sigil.cli(["key", "create", "trader", "--json"]);
  assert.equal(key.code, 0, key.stderr);
  const dir = mkdtempSync(join(tmpdir(), "sigil-crash-"));
  writeFileSync(join(dir, "p.json"), JSON.stringify({ version: 1, rules: [
    { id: "capped", effect: "allow", match: { kind: "eth_tx" },
      budgets: [{ window: "24h", max_count: BUDGET_COUNT, on_exceed: "deny" }] }] }));
  assert.equal(sigil.cli(["policy", "apply", join(dir, "p.json")]).code, 0);
  const token = sigil.cli(["token", "create", "--role", "agent", "--name", "bot", "--keys", "trader", "--json"]).json.token;
  const received = [];  // raw signed transactions that reached a client
  let nonce = 0;

  const burst = async () => {
    const calls = [];
    for (let i = 0; i < 8; i++) {
      const n = nonce++;
      calls.push(sigil.rpc("eth_signTransaction", [{ from: key.json.address, to: "0x1111111111111111111111111111111111111111",
        value: "0x1", gas: "0x5208", maxFeePerGas: "0x3b9aca00", maxPriorityFeePerGas: "0x1", nonce: "0x" + n.toString(16),
        chainId: "0x7a69" }], { token }).then((r) => { if (r.result) received.push(r.result); }, () => {}));
    }
    await Promise.all(calls);
  };

  for (let round = 0; round < ROUNDS; round++) {
    const bursts = [burst(), burst(), burst()];
    await sleep(Math.floor(Math.random() * 40));
    await sigil.kill9AndWait();
    await Promise.allSettled(bursts);
    await sigil.start();
    const v = sigil.cli(["audit", "verify", "--json"]);
    assert.equal(v.code, 0, `round ${round}: ${v.stdout} ${v.stderr}`);
    assert.ok(received.length <= BUDGET_COUNT, `round ${round}: ${received.length} signatures > budget ${BUDGET_COUNT}`);
  }
  // Drain what is left of the budget: the total never exceeds it.
  for (let i = 0; i < 30 && received.length < BUDGET_COUNT + 5; i++) await burst();
  assert.ok(received.length <= BUDGET_COUNT, `${received.length} signatures > budget ${BUDGET_COUNT}`);
  assert.ok(received.length > 0, "no signature was ever returned");
  // The budget is spent: the next request is refused for it.
  const last = await sigil.rpc("eth_signTransaction", [{ from: key.json.address, to: "0x1111111111111111111111111111111111111111",
    value: "0x1", gas: "0x5208", maxFeePerGas: "0x3b9aca00", maxPriorityFeePerGas: "0x1", nonce: "0x0", chainId: "0x7a69" }], { token });
  assert.equal(last.error?.code, -32003, JSON.stringify(last));

  const report = await sigil.rest("GET", "/v1/audit/report?format=json");
  assert.equal(report.status, 200, report.text);
  const logged = new Set(report.json.records.filter((r) => r.type === "sign.request" && r.decision === "allow")
    .map((r) => r.signature_hash));
  for (const raw of received) {
    const h = createHash("sha256").update(Buffer.from(raw.slice(2), "hex")).digest("hex");
    assert.ok(logged.has(h), `signature ${h} reached a client but has no audit record`);
  }
  await sigil.stop();
});
