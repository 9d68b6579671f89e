// A hardhat node and a Sigil dev server pointed at it, with one secp256k1
// key funded from hardhat's dev account, a policy applied and an agent token
// for that key: the common start of the tests that need a real EVM.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers } from "ethers";
import { SigilServer, HardhatNode, DEV_KEY_0 } from "./harness.mjs";

export async function startFundedSigil({ policy, key = "trader", agent = "bot-1", ether = "10" }) {
  const node = await new HardhatNode().start();
  const sigil = await new SigilServer({ extraArgs: ["--upstream", node.url] }).start();
  const created = sigil.cli(["key", "create", key, "--json"]);
  assert.equal(created.code, 0, created.stderr);
  const dir = mkdtempSync(join(tmpdir(), "sigil-pol-"));
  writeFileSync(join(dir, "policy.json"), JSON.stringify(policy));
  const applied = sigil.cli(["policy", "apply", join(dir, "policy.json"), "--json"]);
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  const tok = sigil.cli(["token", "create", "--role", "agent", "--name", agent, "--keys", key, "--json"]);
  assert.equal(tok.code, 0, tok.stderr);
  const nodeProvider = new ethers.JsonRpcProvider(node.url, 31337, { staticNetwork: true });
  const funder = new ethers.Wallet(DEV_KEY_0, nodeProvider);
  const fund = await funder.sendTransaction({ to: created.json.address, value: ethers.parseEther(ether) });
  await minedReceipt(nodeProvider, fund.hash);
  return { node, sigil, nodeProvider, address: created.json.address, agentToken: tok.json.token };
}

// The receipt of a transaction hardhat mined (it mines at once), polled
// directly: ethers' wait() can miss a block mined while its cached block
// number is still the previous one, and then waits for a block that never
// comes.
export async function minedReceipt(provider, hash, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const receipt = await provider.getTransactionReceipt(hash);
    if (receipt) return receipt;
    if (Date.now() > deadline) throw new Error(`transaction ${hash} not mined within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
