// eth_accounts order (issue #6): wallets take account 0 as the default
// signer (ethers' `provider.getSigner()`), so the list runs oldest key
// first. Creating a key appends it; rotating a key keeps its place (with
// its new address); key names do not decide the order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { SigilServer, SIGIL_BIN, sleep } from "./lib/harness.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;

test("eth_accounts lists keys oldest first, through creation and rotation", { skip, timeout: 60000 }, async () => {
  const sigil = await new SigilServer().start();
  try {
    const create = async (name) => {
      const r = await sigil.rest("POST", "/v1/keys", { name });
      assert.equal(r.status, 201, r.text);
      await sleep(1100);  // creation times are kept in whole seconds
      return r.json.address.toLowerCase();
    };
    const accounts = async (token) => {
      const r = await sigil.rpc("eth_accounts", [], { token });
      assert.ok(Array.isArray(r.result), JSON.stringify(r));
      return r.result.map((a) => a.toLowerCase());
    };
    const zeta = await create("zeta");
    const alpha = await create("alpha");
    const tok = await sigil.rest("POST", "/v1/tokens", { role: "agent", name: "bot", keys: ["alpha", "zeta"] });
    assert.equal(tok.status, 201, tok.text);
    const agent = tok.json.token;
    assert.deepEqual(await accounts(agent), [zeta, alpha]);

    const rotated = await sigil.rest("POST", "/v1/keys/zeta/rotate", {});
    assert.equal(rotated.status, 200, rotated.text);
    const zeta2 = rotated.json.address.toLowerCase();
    assert.notEqual(zeta2, zeta);
    assert.deepEqual(await accounts(agent), [zeta2, alpha]);

    const beta = await create("beta");
    const all = await accounts(sigil.adminToken);
    assert.deepEqual(all, [zeta2, alpha, beta]);
  } finally {
    await sigil.stop();
  }
});
