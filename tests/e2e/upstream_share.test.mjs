// The upstream node's answers to one /rpc request share 64 MiB (issue #6:
// request size limits; doc/api.md). Each proxied answer may be up to
// 32 MiB, but a batch of large answers must not make the daemon hold
// batch × 32 MiB: once the share is spent, the next proxied call is refused
// with -32000 "answer_too_large" and the node is not asked for it. A new
// request starts with a new share.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { SigilServer, SIGIL_BIN } from "./lib/harness.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;
const MiB = 1 << 20;
const BIG = 25 * MiB;  // under the 32 MiB per answer, three exceed the 64 MiB share

// A node that answers eth_getLogs with about 25 MiB and counts what it is asked.
async function startFakeNode() {
  const asked = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const call = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      asked.push(call.method);
      let body;
      if (call.method === "eth_getLogs") {
        const prefix = `{"jsonrpc":"2.0","id":${JSON.stringify(call.id)},"result":["0x`;
        const suffix = `"]}`;
        body = prefix + "a".repeat(BIG - prefix.length - suffix.length) + suffix;
      } else if (call.method === "eth_chainId") {
        body = JSON.stringify({ jsonrpc: "2.0", id: call.id, result: "0x7a69" });
      } else {
        body = JSON.stringify({ jsonrpc: "2.0", id: call.id, error: { code: -32601, message: "not here" } });
      }
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, asked, close: () => new Promise((r) => server.close(r)) };
}

async function post(sigil, body) {
  const r = await fetch(sigil.url + "/rpc", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${sigil.adminToken}` },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 200);
  return r.json();
}

test("proxied answers of one request share 64 MiB; the next request has its own share", { skip, timeout: 120000 }, async () => {
  const node = await startFakeNode();
  const sigil = await new SigilServer({ extraArgs: ["--upstream", node.url] }).start();
  try {
    const getLogs = (id) => ({ jsonrpc: "2.0", id, method: "eth_getLogs", params: [{ fromBlock: "0x0", toBlock: "latest" }] });
    node.asked.length = 0;
    const batch = await post(sigil, [getLogs(1), getLogs(2), getLogs(3), { jsonrpc: "2.0", id: 4, method: "eth_chainId", params: [] }]);
    const byId = Object.fromEntries(batch.map((c) => [c.id, c]));
    for (const id of [1, 2]) {
      assert.ok(Array.isArray(byId[id].result), `call ${id}: ${JSON.stringify(byId[id]).slice(0, 200)}`);
      assert.equal(byId[id].result[0].length, byId[1].result[0].length);
    }
    const answer = BIG;  // the node's whole body for one eth_getLogs, by construction
    // Call 3's answer does not fit what is left of the share (64 MiB - 2 answers).
    const e = byId[3].error;
    assert.ok(e, `call 3 should be refused: ${JSON.stringify(byId[3]).slice(0, 200)}`);
    assert.equal(e.code, -32000);
    assert.equal(e.data.reason, "answer_too_large");
    assert.equal(e.data.limit_bytes, 64 * MiB - 2 * answer);
    // A refused answer is not kept, so it takes nothing from the share: a
    // small answer still fits in what is left.
    assert.equal(byId[4].result, "0x7a69", JSON.stringify(byId[4]));
    // The node was asked all four (call 3's answer was read up to the limit).
    assert.deepEqual(node.asked, ["eth_getLogs", "eth_getLogs", "eth_getLogs", "eth_chainId"]);

    // A new request, a new share.
    const again = await post(sigil, getLogs(5));
    assert.ok(Array.isArray(again.result), JSON.stringify(again).slice(0, 200));
    const id = await post(sigil, { jsonrpc: "2.0", id: 6, method: "eth_chainId", params: [] });
    assert.equal(id.result, "0x7a69");
  } finally {
    await sigil.stop();
    await node.close();
  }
});
