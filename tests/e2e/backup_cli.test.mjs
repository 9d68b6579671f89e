// `sigil backup create` / `sigil backup restore` and `sigil init` from the
// CLI, as INTERFACE.md has them: a passphrase backup and an M-of-N shared
// backup both restore to the same addresses; a failed restore leaves nothing
// behind, so the corrected command simply runs; --json everywhere.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { SigilServer, SIGIL_BIN } from "./lib/harness.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;
let sigil, work, passFile;
const addresses = {};

before(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), "sigil-backup-"));
  passFile = join(work, "backup.pass");
  writeFileSync(passFile, "a long backup passphrase\n", { mode: 0o600 });
  sigil = await new SigilServer().start();
  for (const [name, type] of [["trader", "secp256k1"], ["sol", "ed25519"], ["nostr", "schnorr"]]) {
    const k = sigil.cli(["key", "create", name, "--type", type, "--json"]);
    assert.equal(k.code, 0, k.stderr);
  }
  const rotated = sigil.cli(["key", "rotate", "trader", "--json"]);
  assert.equal(rotated.code, 0, rotated.stderr);
  const listed = sigil.cli(["key", "list", "--json"]).json.keys;
  for (const k of listed) if (k.status === "active") addresses[k.name] = k;
  original = summary(listed);
  assert.equal(listed.filter((k) => k.name === "trader").length, 2);  // the rotated-out version is kept
});
after(async () => {
  if (sigil) await sigil.stop();
});

// Starts a dev server on a restored directory and returns its key list.
async function keysOf(dataDir) {
  const restored = await new SigilServer({ dataDir }).start();
  try {
    const list = restored.cli(["key", "list", "--json"]);
    assert.equal(list.code, 0, list.stderr);
    return list.json.keys;
  } finally {
    await restored.stop();
  }
}

// Every version of every key, as the original daemon lists them.
const summary = (keys) => keys.map((k) => `${k.name} v${k.version} ${k.status} ${k.type} ${k.address}`).sort();
let original;

function assertSameKeys(keys) {
  assert.deepEqual(summary(keys), original);
  const byName = Object.fromEntries(keys.filter((k) => k.status === "active").map((k) => [k.name, k]));
  for (const name of ["trader", "sol", "nostr"]) assert.equal(byName[name].address, addresses[name].address, name);
}

test("passphrase backup: create, restore with --json, same addresses", { skip, timeout: 120000 }, async () => {
  const out = join(work, "pass.sigil");
  const made = sigil.cli(["backup", "create", "--out", out, "--json"], { env: { SIGIL_BACKUP_PASSPHRASE_FILE: passFile } });
  assert.equal(made.code, 0, made.stderr);
  assert.deepEqual(made.json.files, [out]);
  assert.match(made.json.backup_id, /^[0-9a-f]{32}$/);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  const dir = join(work, "restored-pass");
  // Without a master key source (SIGIL_PASSPHRASE_FILE, --key-file) a restore
  // is refused before anything is made: the restored keys would otherwise
  // sit under a plain-text master.key nobody asked for. --dev asks for it.
  const bare = sigil.cli(["backup", "restore", out, "--data", dir], { env: { SIGIL_BACKUP_PASSPHRASE_FILE: passFile } });
  assert.equal(bare.code, 2, bare.stderr);
  assert.match(bare.stderr, /no master key source/);
  assert.ok(!existsSync(dir), "a refused restore creates nothing");
  const r = sigil.cli(["backup", "restore", out, "--data", dir, "--json", "--dev"], { env: { SIGIL_BACKUP_PASSPHRASE_FILE: passFile } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.data_dir, dir);
  assert.ok(r.json.key_versions_restored >= 4, r.stdout);
  assert.ok(existsSync(r.json.admin_token_file));
  assertSameKeys(await keysOf(dir));
});

test("shared backup 2/3: the file plus any two shares restore; one share is refused and leaves nothing", { skip, timeout: 120000 }, async () => {
  const out = join(work, "shared.sigil");
  const made = sigil.cli(["backup", "create", "--out", out, "--shares", "2/3", "--json"]);
  assert.equal(made.code, 0, made.stderr);
  assert.deepEqual(made.json.files, [out, `${out}.1`, `${out}.2`, `${out}.3`]);
  for (const f of made.json.files) assert.equal(statSync(f).mode & 0o777, 0o600);
  const dir = join(work, "restored-shared");
  const few = sigil.cli(["backup", "restore", out, `${out}.2`, "--data", dir, "--dev"]);
  assert.equal(few.code, 2, few.stderr);
  assert.match(few.stderr, /needs 2 of 3/);
  assert.ok(!existsSync(dir), "a refused restore creates nothing");
  // A directory that exists and is empty: a failure in the middle (a share
  // of another backup) leaves it empty again.
  const other = join(work, "other.sigil");
  assert.equal(sigil.cli(["backup", "create", "--out", other, "--shares", "2/3"]).code, 0);
  mkdirSync(dir, { mode: 0o700 });
  const mixed = sigil.cli(["backup", "restore", out, `${out}.1`, `${other}.2`, "--data", dir, "--dev"]);
  assert.notEqual(mixed.code, 0, mixed.stdout);
  assert.deepEqual(readdirSync(dir), []);
  const ok = sigil.cli(["backup", "restore", out, `${out}.3`, `${out}.1`, "--data", dir, "--json", "--dev"]);
  assert.equal(ok.code, 0, ok.stderr);
  assertSameKeys(await keysOf(dir));
  // Restoring over a keystore is refused and changes nothing.
  const again = sigil.cli(["backup", "restore", out, `${out}.1`, `${out}.2`, "--data", dir, "--dev"]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /already holds a keystore/);
  assertSameKeys(await keysOf(dir));
});

test("a backup with fewer shares over one with more removes the older backup's extra shares", { skip, timeout: 120000 }, async () => {
  const out = join(work, "resplit.sigil");
  const big = sigil.cli(["backup", "create", "--out", out, "--shares", "3/5", "--json"]);
  assert.equal(big.code, 0, big.stderr);
  writeFileSync(`${out}.6`, "not a share\n");
  const small = sigil.cli(["backup", "create", "--out", out, "--shares", "2/3", "--json"]);
  assert.equal(small.code, 0, small.stderr);
  assert.deepEqual(small.json.files, [out, `${out}.1`, `${out}.2`, `${out}.3`]);
  assert.deepEqual(small.json.removed_stale_shares, [`${out}.4`, `${out}.5`]);
  assert.ok(!existsSync(`${out}.4`) && !existsSync(`${out}.5`));
  assert.equal(readFileSync(`${out}.6`, "utf8"), "not a share\n", "a file that is not a share is left alone");
  const dir = join(work, "restored-resplit");
  const r = sigil.cli(["backup", "restore", out, `${out}.3`, `${out}.2`, "--data", dir, "--json", "--dev"]);
  assert.equal(r.code, 0, r.stderr);
  assertSameKeys(await keysOf(dir));
  // A passphrase backup over the shared one: its shares go too.
  const pass = sigil.cli(["backup", "create", "--out", out, "--json"], { env: { SIGIL_BACKUP_PASSPHRASE_FILE: passFile } });
  assert.equal(pass.code, 0, pass.stderr);
  assert.deepEqual(pass.json.removed_stale_shares, [`${out}.1`, `${out}.2`, `${out}.3`]);
});

test("init --json names the data directory and the admin token file", { skip }, () => {
  const dir = join(work, "initialised");
  const pf = join(work, "master.pass");
  writeFileSync(pf, "a long master passphrase\n", { mode: 0o600 });
  const r = sigil.cli(["init", "--data", dir, "--json"], { env: { SIGIL_PASSPHRASE_FILE: pf } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.data_dir, dir);
  assert.equal(r.json.admin_token_file, join(dir, "admin.token"));
  assert.match(readFileSync(r.json.admin_token_file, "utf8"), /^sgl_/);
  const twice = sigil.cli(["init", "--data", dir, "--json"], { env: { SIGIL_PASSPHRASE_FILE: pf } });
  assert.notEqual(twice.code, 0);
  assert.ok(existsSync(join(dir, "admin.token")), "a refused init leaves the existing directory alone");
});

test("concurrent inits of one fresh folder: one wins, the others refuse and leave its files alone", { skip }, async () => {
  const pf = join(work, "race.pass");
  writeFileSync(pf, "a long master passphrase\n", { mode: 0o600 });
  const env = { ...process.env, SIGIL_PASSPHRASE_FILE: pf };
  const run = (dir) => new Promise((resolve) => {
    const child = spawn(SIGIL_BIN, ["init", "--data", dir, "--json"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stderr }));
  });
  for (let round = 0; round < 4; round++) {
    const dir = join(work, `race-${round}`, "data");
    const results = await Promise.all([0, 1, 2, 3].map(() => run(dir)));
    const won = results.filter((r) => r.code === 0);
    assert.equal(won.length, 1, JSON.stringify(results));
    for (const r of results.filter((r) => r.code !== 0)) assert.match(r.stderr, /already holds a keystore/);
    // The winner's directory is whole: its token and database are there and
    // a further init still finds the keystore.
    assert.match(readFileSync(join(dir, "admin.token"), "utf8"), /^sgl_/);
    assert.ok(existsSync(join(dir, "sigil.db")));
    const again = await run(dir);
    assert.match(again.stderr, /already holds a keystore/);
  }
});

test("a failed init or restore removes only what it made, never what was there", { skip }, () => {
  const victim = join(work, "victim");
  mkdirSync(join(victim, "sub"), { recursive: true });
  writeFileSync(join(victim, "precious.txt"), "keep me");
  // "victim/new/.." is victim itself: no passphrase source, so init fails.
  const env = { SIGIL_PASSPHRASE_FILE: "" };
  const init = sigil.cli(["init", "--data", join(victim, "new", "..")], { env });
  assert.notEqual(init.code, 0, init.stdout);
  assert.deepEqual(readdirSync(victim).sort(), ["precious.txt", "sub"]);
  // A restore with the wrong passphrase into a folder holding other files.
  const wrong = join(work, "wrong.pass");
  writeFileSync(wrong, "not the backup passphrase\n", { mode: 0o600 });
  const out = join(work, "pass.sigil");
  if (!existsSync(out)) {
    assert.equal(sigil.cli(["backup", "create", "--out", out], { env: { SIGIL_BACKUP_PASSPHRASE_FILE: passFile } }).code, 0);
  }
  const r = sigil.cli(["backup", "restore", out, "--data", victim, "--dev"], { env: { SIGIL_BACKUP_PASSPHRASE_FILE: wrong } });
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, /passphrase/);
  assert.deepEqual(readdirSync(victim).sort(), ["precious.txt", "sub"]);
  assert.equal(readFileSync(join(victim, "precious.txt"), "utf8"), "keep me");
  // A key file named through a folder the failed restore made is not
  // mistaken for a new one: victim/new2/../master.key is victim/master.key.
  const userKey = join(victim, "master.key");
  writeFileSync(userKey, Buffer.alloc(32, 7), { mode: 0o600 });
  const viaNew = sigil.cli(["backup", "restore", out, "--data", join(victim, "new2"), "--key-file", join(victim, "new2", "..", "master.key")],
                           { env: { SIGIL_BACKUP_PASSPHRASE_FILE: wrong } });
  assert.notEqual(viaNew.code, 0, viaNew.stdout);
  assert.deepEqual(readFileSync(userKey), Buffer.alloc(32, 7));
  assert.deepEqual(readdirSync(victim).sort(), ["master.key", "precious.txt", "sub"]);
  // "/" is refused outright.
  const root = sigil.cli(["init", "--data", "/"], { env });
  assert.equal(root.code, 2, root.stderr);
  assert.match(root.stderr, /refusing/);
});
