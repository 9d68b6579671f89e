// PKCS#11 end to end: a SoftHSM2 token set up here (private SOFTHSM2_CONF and
// token directory in a temp dir), Sigil started with --pkcs11-module/--token/
// --pin-file, a secp256k1 key generated inside the token through
// `sigil key create --backend pkcs11`, and an EIP-1559 transfer signed through
// /rpc that a hardhat node mines with `from` = the HSM key's address.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, mkdtempSync, mkdirSync, existsSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers } from "ethers";
import { SigilServer, HardhatNode, DEV_KEY_0, SIGIL_BIN } from "./lib/harness.mjs";

const MODULES = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"];
const MODULE = MODULES.find((m) => existsSync(m));
const skip = (!existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`) || (!MODULE && "softhsm2 is not installed");
const TREASURY = "0x1111111111111111111111111111111111111111";
const POLICY = {
  version: 1,
  rules: [{ id: "hsm-payments", effect: "allow", keys: ["hsm-eth"],
            match: { kind: "eth_tx", chain_id: [31337], value: { lte: "1 ether" } } }],
};
let hsmDir, env, node, sigil, agentToken, hsmAddress;

before(async () => {
  if (skip) return;
  hsmDir = mkdtempSync(join(tmpdir(), "sigil-hsm-e2e-"));
  mkdirSync(join(hsmDir, "tokens"));
  writeFileSync(join(hsmDir, "softhsm2.conf"),
    `directories.tokendir = ${hsmDir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  env = { SOFTHSM2_CONF: join(hsmDir, "softhsm2.conf") };
  execFileSync("softhsm2-util", ["--init-token", "--free", "--label", "sigil-e2e", "--so-pin", "12345678", "--pin", "4321"],
    { env: { ...process.env, ...env }, stdio: "ignore" });
  writeFileSync(join(hsmDir, "pin"), "4321\n", { mode: 0o600 });
  node = await new HardhatNode().start();
  sigil = await new SigilServer({
    extraArgs: ["--upstream", node.url, "--pkcs11-module", MODULE, "--pkcs11-token", "sigil-e2e",
                "--pkcs11-pin-file", join(hsmDir, "pin")],
    env,
  }).start();
});

after(async () => {
  if (sigil) await sigil.stop();
  if (node) await node.stop();
  if (hsmDir) rmSync(hsmDir, { recursive: true, force: true });
});

test("sigil key create --backend pkcs11 makes the key in the token; key list shows backend pkcs11", { skip }, () => {
  const key = sigil.cli(["key", "create", "hsm-eth", "--type", "secp256k1", "--backend", "pkcs11", "--json"]);
  assert.equal(key.code, 0, key.stderr + key.stdout);
  assert.equal(key.json.backend, "pkcs11");
  assert.match(key.json.address, /^0x[0-9a-fA-F]{40}$/);
  hsmAddress = key.json.address;
  const ed = sigil.cli(["key", "create", "hsm-sol", "--type", "ed25519", "--backend", "pkcs11", "--json"]);
  assert.equal(ed.code, 0, ed.stderr + ed.stdout);
  const list = sigil.cli(["key", "list", "--json"]);
  assert.equal(list.code, 0, list.stderr);
  const keys = list.json.keys || list.json;
  const byName = Object.fromEntries(keys.map((k) => [k.name, k]));
  assert.equal(byName["hsm-eth"].backend, "pkcs11");
  assert.equal(byName["hsm-sol"].backend, "pkcs11");
  const text = sigil.cli(["key", "list"]);
  assert.match(text.stdout, /pkcs11/);
  // The private key is on the token, non-extractable: pkcs11-tool sees it.
  const objects = execFileSync("pkcs11-tool", ["--module", MODULE, "--token-label", "sigil-e2e", "--login", "--pin", "4321",
    "--list-objects", "--type", "privkey"], { env: { ...process.env, ...env }, encoding: "utf8" });
  assert.match(objects, /sigil:hsm-eth:v1/);
  assert.match(objects, /never extractable/);
});

test("BIP-340 keys are refused on the HSM with a clear error", { skip }, () => {
  const r = sigil.cli(["key", "create", "hsm-nostr", "--type", "schnorr", "--backend", "pkcs11", "--json"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /BIP-340/);
});

test("an HSM-signed EIP-1559 transfer through /rpc is mined with from = the HSM address", { skip }, async () => {
  assert.ok(hsmAddress, "the key was created");
  const dir = mkdtempSync(join(tmpdir(), "sigil-hsm-pol-"));
  writeFileSync(join(dir, "policy.json"), JSON.stringify(POLICY));
  const applied = sigil.cli(["policy", "apply", join(dir, "policy.json"), "--json"]);
  rmSync(dir, { recursive: true, force: true });
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  const tok = sigil.cli(["token", "create", "--role", "agent", "--name", "hsm-bot", "--keys", "hsm-eth", "--json"]);
  assert.equal(tok.code, 0, tok.stderr);
  agentToken = tok.json.token;

  const funder = new ethers.Wallet(DEV_KEY_0, new ethers.JsonRpcProvider(node.url, 31337, { staticNetwork: true }));
  await (await funder.sendTransaction({ to: hsmAddress, value: ethers.parseEther("5") })).wait();

  const req = new ethers.FetchRequest(sigil.url + "/rpc");
  req.setHeader("Authorization", `Bearer ${agentToken}`);
  const provider = new ethers.JsonRpcProvider(req, 31337, { staticNetwork: true, batchMaxCount: 1 });
  const signer = await provider.getSigner(hsmAddress);
  // Several transfers: SoftHSM returns high-s about half the time, so this
  // exercises low-s normalisation and both recovery ids.
  for (let i = 0; i < 4; i++) {
    const tx = await signer.sendTransaction({ to: TREASURY, value: ethers.parseEther("0.01") });
    const receipt = await tx.wait();
    assert.equal(receipt.status, 1);
    assert.equal(receipt.from.toLowerCase(), hsmAddress.toLowerCase());
    const mined = await provider.getTransaction(receipt.hash);
    assert.equal(mined.type, 2);
    assert.ok(BigInt(mined.signature.s) <= 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n, "low-s");
  }
});

test("backup says PKCS#11 keys are not included", { skip }, async () => {
  const r = await sigil.rest("POST", "/v1/backup", { passphrase: "a long backup passphrase" });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.pkcs11_keys_not_included, 2);
});

test("keystore.backend = pkcs11 makes the token the default for key create; without it, software", { skip }, async () => {
  const plain = sigil.cli(["key", "create", "soft-default", "--json"]);
  assert.equal(plain.code, 0, plain.stderr + plain.stdout);
  assert.equal(plain.json.backend, "software");

  const work = mkdtempSync(join(tmpdir(), "sigil-hsm-default-"));
  const config = join(work, "sigil.toml");
  writeFileSync(config, `[keystore]\nbackend = "pkcs11"\n[pkcs11]\nmodule = "${MODULE}"\ntoken = "sigil-e2e"\n` +
                        `pin_file = "${join(hsmDir, "pin")}"\n`);
  // The token is shared with the running daemon: SoftHSM allows a second
  // application, each with its own sessions.
  const other = await new SigilServer({ dataDir: join(work, "data"), extraArgs: ["--config", config], env }).start();
  try {
    const made = other.cli(["key", "create", "hsm-default", "--json"]);
    assert.equal(made.code, 0, made.stderr + made.stdout);
    assert.equal(made.json.backend, "pkcs11");
    const soft = other.cli(["key", "create", "soft-asked", "--backend", "software", "--json"]);
    assert.equal(soft.code, 0, soft.stderr + soft.stdout);
    assert.equal(soft.json.backend, "software");
  } finally {
    await other.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
