// web3.py's shapes (issue #6: "ethers.js/viem/web3.py can point at" Sigil).
// PyPI is out of reach here, so this sends the requests web3.py's
// HTTPProvider sends (its User-Agent, or python-requests' when it is given
// headers; its method names and parameter orders) and checks the answers
// against what web3.py's result formatters read: eth_signTransaction as
// geth's object {raw, tx} (web3.py applies a dict formatter to it and fails
// on a string), while ethers and viem, which need the raw hex string, keep
// getting it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { ethers } from "ethers";
import { SigilServer, SIGIL_BIN } from "./lib/harness.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;
const WEB3PY_AGENT = "web3.py/7.6.0/web3.providers.rpc.rpc.HTTPProvider";

const POLICY = {
  version: 1,
  rules: [
    { id: "txs", effect: "allow", match: { kind: "eth_tx", chain_id: [31337] } },
    { id: "messages", effect: "allow", match: { kind: "eth_message" } },
    { id: "typed", effect: "allow", match: { kind: "eth_typed_data" } },
  ],
};

async function call(sigil, token, method, params, userAgent, { path = "/rpc", extra = {} } = {}) {
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}`, ...extra };
  if (userAgent) headers["user-agent"] = userAgent;
  const r = await fetch(sigil.url + path, {
    method: "POST",
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", id: 7, method, params }),
  });
  assert.equal(r.status, 200);
  return r.json();
}

test("web3.py: sign_transaction gets geth's {raw, tx}; ethers and viem keep the raw string", { skip, timeout: 60000 }, async () => {
  const sigil = await new SigilServer().start();
  try {
    const key = await sigil.rest("POST", "/v1/keys", { name: "py" });
    assert.equal(key.status, 201, key.text);
    const from = key.json.address;
    assert.equal((await sigil.rest("POST", "/v1/policy", { policy: POLICY })).status, 200);
    const tok = await sigil.rest("POST", "/v1/tokens", { role: "agent", name: "pybot", keys: ["py"] });
    assert.equal(tok.status, 201, tok.text);
    const agent = tok.json.token;

    // eth_accounts as web3.py's w3.eth.accounts asks it.
    const accounts = await call(sigil, agent, "eth_accounts", [], WEB3PY_AGENT);
    assert.deepEqual(accounts.result.map((a) => a.toLowerCase()), [from.toLowerCase()]);

    // web3.py formats every integer as 0x-hex and sends `data`.
    const tx = {
      from, to: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", value: "0x2386f26fc10000", gas: "0x5208",
      maxFeePerGas: "0x77359400", maxPriorityFeePerGas: "0x3b9aca00", nonce: "0x3", chainId: "0x7a69", data: "0x",
    };
    const py = await call(sigil, agent, "eth_signTransaction", [tx], WEB3PY_AGENT);
    assert.ok(py.result && typeof py.result === "object", JSON.stringify(py));
    const { raw, tx: shown } = py.result;
    const parsed = ethers.Transaction.from(raw);
    assert.equal(parsed.from, ethers.getAddress(from));
    assert.equal(shown.hash, parsed.hash);
    assert.equal(shown.hash, ethers.keccak256(raw));
    assert.equal(shown.from, ethers.getAddress(from));
    assert.equal(shown.type, "0x2");
    assert.equal(BigInt(shown.chainId), 31337n);
    assert.equal(BigInt(shown.nonce), 3n);
    assert.equal(BigInt(shown.gas), 21000n);
    assert.equal(BigInt(shown.value), 10n ** 16n);
    assert.equal(BigInt(shown.maxFeePerGas), 2000000000n);
    assert.equal(BigInt(shown.maxPriorityFeePerGas), 1000000000n);
    assert.equal(shown.to, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    assert.equal(shown.input, "0x");
    assert.equal(BigInt(shown.r), BigInt(parsed.signature.r));
    assert.equal(BigInt(shown.s), BigInt(parsed.signature.s));
    assert.equal(BigInt(shown.yParity), BigInt(parsed.signature.yParity));
    assert.equal(BigInt(shown.v), BigInt(parsed.signature.yParity));

    // Legacy (EIP-155): v is chain_id * 2 + 35/36, no yParity.
    const legacy = { from, to: tx.to, value: "0x1", gas: "0x5208", gasPrice: "0x3b9aca00", nonce: "0x4", chainId: "0x7a69" };
    const pyLegacy = await call(sigil, agent, "eth_signTransaction", [legacy], WEB3PY_AGENT);
    const legacyParsed = ethers.Transaction.from(pyLegacy.result.raw);
    assert.equal(pyLegacy.result.tx.type, "0x0");
    assert.equal(BigInt(pyLegacy.result.tx.v), 31337n * 2n + 35n + BigInt(legacyParsed.signature.yParity));
    assert.equal(pyLegacy.result.tx.yParity, undefined);
    assert.equal(BigInt(pyLegacy.result.tx.gasPrice), 1000000000n);

    // Any other client (ethers, viem, curl) gets the raw hex string, the
    // same bytes web3.py got in `raw` (RFC 6979: one signature per tx).
    for (const ua of [undefined, "ethers/6.17.0", "viem@2.57.1", "curl/7.88.1"]) {
      const other = await call(sigil, agent, "eth_signTransaction", [tx], ua);
      assert.equal(other.result, raw, `${ua}: ${JSON.stringify(other)}`);
    }

    // web3.py given headers of its own (HTTPProvider(url, request_kwargs=
    // {"headers": {"Authorization": ...}}), the way Sigil's token is passed)
    // sends python-requests' User-Agent instead of its own: it asks with the
    // URL or a header.
    const REQUESTS_AGENT = "python-requests/2.31.0";
    assert.equal((await call(sigil, agent, "eth_signTransaction", [tx], REQUESTS_AGENT)).result, raw);
    for (const how of [{ path: "/rpc?signed_tx=object" }, { extra: { "sigil-signed-tx": "object" } }]) {
      const asked = await call(sigil, agent, "eth_signTransaction", [tx], REQUESTS_AGENT, how);
      assert.equal(asked.result?.raw, raw, `${JSON.stringify(how)}: ${JSON.stringify(asked)}`);
      assert.equal(asked.result.tx.hash, shown.hash);
    }
    // "raw" wins over web3.py's User-Agent; any other value is refused.
    assert.equal((await call(sigil, agent, "eth_signTransaction", [tx], WEB3PY_AGENT, { path: "/rpc?signed_tx=raw" })).result, raw);
    const typo = await fetch(sigil.url + "/rpc?signed_tx=objet", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${agent}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    assert.equal(typo.status, 400);
    assert.match(await typo.text(), /signed_tx .*object.*raw/);

    // The rest of web3.py's signing calls keep their plain answers:
    // eth_sign [account, hex data] and eth_signTypedData [account, dict].
    const msg = await call(sigil, agent, "eth_sign", [from, ethers.hexlify(ethers.toUtf8Bytes("hello"))], WEB3PY_AGENT);
    assert.equal(ethers.verifyMessage("hello", msg.result), ethers.getAddress(from));
    const typed = {
      types: {
        EIP712Domain: [{ name: "name", type: "string" }, { name: "chainId", type: "uint256" }],
        Note: [{ name: "text", type: "string" }],
      },
      primaryType: "Note",
      domain: { name: "web3py", chainId: 31337 },
      message: { text: "hi" },
    };
    const sig = await call(sigil, agent, "eth_signTypedData", [from, typed], WEB3PY_AGENT);
    const { EIP712Domain, ...types } = typed.types;
    assert.equal(ethers.verifyTypedData(typed.domain, types, typed.message, sig.result), ethers.getAddress(from));

    // A batch from web3.py: each signTransaction in it is an object.
    const batch = await fetch(sigil.url + "/rpc", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${agent}`, "user-agent": WEB3PY_AGENT },
      body: JSON.stringify([
        { jsonrpc: "2.0", id: 1, method: "eth_signTransaction", params: [tx] },
        { jsonrpc: "2.0", id: 2, method: "eth_chainId", params: [] },
      ]),
    }).then((r) => r.json());
    assert.equal(batch.find((c) => c.id === 1).result.raw, raw);
  } finally {
    await sigil.stop();
  }
});
