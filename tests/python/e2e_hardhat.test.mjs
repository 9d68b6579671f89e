// Drives tests/python/test_e2e_hardhat.py: starts hardhat and `sigil server
// --dev`, creates key "py", applies a policy, issues an agent token ("py-bot")
// and two approver tokens with TOTP, funds the key, then runs pytest with
// SIGIL_E2E=1 SIGIL_URL SIGIL_TOKEN HARDHAT_URL SIGIL_APPROVERS SIGIL_ADMIN_TOKEN SIGIL_BIN.
//
//   SIGIL_BIN=build/sigil node --test tests/python/e2e_hardhat.test.mjs
//
// Needs tests/e2e/node_modules (hardhat) and python3 with pytest.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { SigilServer, HardhatNode, SIGIL_BIN } from "../e2e/lib/harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const DEV0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

const POLICY = {
  version: 1,
  lists: { blocked: ["0x000000000000000000000000000000000000dEaD"] },
  rules: [
    { id: "no-blocked", effect: "deny", match: { kind: "eth_tx", to: { in: "@blocked" } }, reason: "recipient is blocked" },
    { id: "py-small", effect: "allow", keys: ["py"], agents: ["py-bot"],
      match: { kind: "eth_tx", chain_id: [31337], value: { lte: "0.5 ether" } } },
    { id: "py-large", effect: "require_approval", keys: ["py"],
      match: { kind: "eth_tx", chain_id: [31337], value: { gt: "0.5 ether" } },
      approval: { quorum: 2, role: "approver", second_factor: "totp", expires: "1h" } },
    { id: "py-messages", effect: "allow", keys: ["py"], match: { kind: "eth_message" } },
  ],
};

function python() {
  for (const candidate of [process.env.PYTHON, "python3", "/usr/bin/python3"]) {
    if (candidate && spawnSync(candidate, ["-m", "pytest", "--version"]).status === 0) return candidate;
  }
  return null;
}

function ok(r, what) {
  assert.ok(r.status >= 200 && r.status < 300, `${what}: HTTP ${r.status} ${r.text}`);
  return r.json;
}

const py = python();
const skip = !existsSync(SIGIL_BIN) ? `sigil binary not found at ${SIGIL_BIN}: build it or set SIGIL_BIN`
  : !py ? "no python3 with pytest (apt-get install python3-pytest)" : false;

test("python client end to end against hardhat", { skip, timeout: 300_000 }, async () => {
  const hardhat = await new HardhatNode().start();
  const sigil = await new SigilServer({ extraArgs: ["--upstream", hardhat.url] }).start();
  try {
    let key = ok(await sigil.rest("POST", "/v1/keys", { name: "py", type: "secp256k1" }), "create key");
    if (!key.address) key = ok(await sigil.rest("GET", "/v1/keys/py"), "show key");
    ok(await sigil.rest("POST", "/v1/policy", { document_text: JSON.stringify(POLICY) }), "apply policy");
    const agent = ok(await sigil.rest("POST", "/v1/tokens", { role: "agent", name: "py-bot", keys: ["py"] }), "agent token").token;
    const approvers = [];
    for (const name of ["carol", "dave"]) {
      const token = ok(await sigil.rest("POST", "/v1/tokens", { role: "approver", name, keys: [] }), `token ${name}`).token;
      const { otpauth_uri } = ok(await sigil.rest("POST", `/v1/tokens/${name}/totp`, {}), `TOTP ${name}`);
      approvers.push({ token, otpauth_uri });
    }
    const fund = await fetch(hardhat.url, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_sendTransaction",
        params: [{ from: DEV0, to: key.address, value: "0x8ac7230489e80000" }] }) });  // 10 ETH
    assert.ok((await fund.json()).result, "funding the key");

    const run = spawnSync(py, ["-m", "pytest", "-q", "-p", "no:cacheprovider", join(here, "test_e2e_hardhat.py")], {
      cwd: join(here, "..", ".."),
      env: { ...process.env, SIGIL_E2E: "1", SIGIL_URL: sigil.url, SIGIL_TOKEN: agent, HARDHAT_URL: hardhat.url,
             SIGIL_APPROVERS: JSON.stringify(approvers), SIGIL_ADMIN_TOKEN: sigil.adminToken, SIGIL_BIN,
             PYTHONDONTWRITEBYTECODE: "1" },
      encoding: "utf8", timeout: 240_000,
    });
    assert.equal(run.status, 0, `pytest failed:\n${run.stdout}\n${run.stderr}`);
  } finally {
    await sigil.stop();
    await hardhat.stop();
  }
});
