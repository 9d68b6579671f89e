// Bad input against a real daemon (issue #6, DESIGN.md invariant 7):
// malformed JSON, oversized bodies, wrong types, unknown methods, huge
// batches, deep nesting, invalid UTF-8, garbage, slowloris connections
// (headers trickled, body never completed). Each gets a clear error, the
// daemon stays up and keeps serving others, and nothing is signed.
// Also: the daemon's stderr is one JSON object per line with request ids
// (a client's X-Request-Id is echoed), and never holds a token or an
// imported private key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import { SigilServer, SIGIL_BIN, sleep } from "./lib/harness.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;

// Sends raw bytes on a fresh connection; resolves with what the server sent
// back and when it closed (ms after the last write).
function raw(port, chunks, { gapMs = 0, waitMs = 8000 } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let data = "";
    let lastWrite = Date.now();
    let closedAfter = null;
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ data, closedAfter });
    }, waitMs);
    sock.on("data", (d) => (data += d));
    sock.on("error", () => {});
    sock.on("close", () => {
      closedAfter = Date.now() - lastWrite;
      clearTimeout(timer);
      resolve({ data, closedAfter });
    });
    sock.on("connect", async () => {
      for (const c of chunks) {
        if (sock.destroyed) break;
        sock.write(c);
        lastWrite = Date.now();
        if (gapMs) await sleep(gapMs);
      }
    });
  });
}

async function signedCount(sigil) {
  const text = await fetch(sigil.url + "/metrics", { headers: { authorization: `Bearer ${sigil.adminToken}` } }).then((r) => r.text());
  let n = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("sigil_requests_total{") && line.includes('decision="signed"')) n += Number(line.split(" ").pop());
  }
  return n;
}

test("bad input gets clear errors, nothing is signed, the daemon keeps serving; logs are JSON without secrets", { skip, timeout: 120000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "sigil-bad-"));
  const config = join(dir, "sigil.toml");
  writeFileSync(config, `allow_key_import = true\n[server]\nheader_timeout = "2s"\nbody_timeout = "2s"\n`);
  const sigil = await new SigilServer({ extraArgs: ["--config", config] }).start();
  try {
    const admin = sigil.adminToken;
    // A planted private key, imported over REST: it must never reach the log.
    const planted = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    const imp = await sigil.rest("POST", "/v1/keys/import", { name: "trader", type: "secp256k1", private_key: "0x" + planted });
    assert.equal(imp.status, 201, imp.text);
    const trader = imp.json.address;
    const policy = { version: 1, rules: [{ id: "all", effect: "allow", match: { kind: "eth_tx", chain_id: [31337] } },
                                         { id: "msg", effect: "allow", match: { kind: "eth_message" } }] };
    assert.equal((await sigil.rest("POST", "/v1/policy", { policy })).status, 200);
    const agent = (await sigil.rest("POST", "/v1/tokens", { role: "agent", name: "bot-1", keys: ["trader"] })).json.token;
    const before = await signedCount(sigil);

    const post = async (body, headers = {}) => {
      const r = await fetch(sigil.url + "/rpc", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${agent}`, ...headers },
        body,
      });
      const text = await r.text();
      let json;
      try { json = JSON.parse(text); } catch {}
      return { status: r.status, text, json, headers: r.headers };
    };
    const call = (method, params) => post(JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }));

    // Malformed JSON, empty body, not an object.
    for (const body of ['{"jsonrpc":"2.0",', "", "nul", '{"jsonrpc":"2.0","id":1,"method":"personal_sign","params":["0x00", "' + trader + '"]} trailing']) {
      const r = await post(body);
      assert.equal(r.json?.error?.code, -32700, `${JSON.stringify(body)} -> ${r.text}`);
    }
    assert.equal((await post("42")).json.error.code, -32600);
    // Invalid UTF-8 inside a string.
    const bad8 = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":1,"method":"personal_sign","params":["'), Buffer.from([0xff, 0xfe, 0xc3]),
                                Buffer.from(`","${trader}"]}`)]);
    assert.equal((await post(bad8)).json.error.code, -32700);
    // Wrong types: -32602 naming the field.
    let r = await call("eth_signTransaction", ["not an object"]);
    assert.equal(r.json.error.code, -32602);
    assert.match(r.json.error.message, /params\[0\]/);
    assert.equal(r.json.error.data.field, "params[0]", r.text);
    r = await call("eth_signTransaction", [{ from: trader, to: "0x" + "11".repeat(20), value: { much: "money" }, gas: "0x5208", maxFeePerGas: "0x1", maxPriorityFeePerGas: "0x1", nonce: "0x0", chainId: "0x7a69" }]);
    assert.equal(r.json.error.code, -32602, r.text);
    assert.match(r.json.error.message, /value/);
    assert.equal(r.json.error.data.field, "value", r.text);
    assert.ok(r.json.error.data.reason.length > 0, r.text);
    r = await call("eth_signTransaction", [{ from: trader, to: "0x1234", value: "0x1", gas: "0x5208", maxFeePerGas: "0x1", maxPriorityFeePerGas: "0x1", nonce: "0x0", chainId: "0x7a69" }]);
    assert.equal(r.json.error.code, -32602, r.text);
    assert.match(r.json.error.message, /to/);
    assert.equal(r.json.error.data.field, "to", r.text);
    assert.match(r.json.error.data.reason, /address/, r.text);
    r = await call("personal_sign", [12345, trader]);
    assert.equal(r.json.error.code, -32602);
    assert.match(r.json.error.message, /message/);
    r = await call("eth_signTransaction", [{ from: trader, value: "1e18", nonce: "0x0", chainId: "0x7a69", gas: "0x5208", maxFeePerGas: "0x1", maxPriorityFeePerGas: "0x1" }]);
    assert.equal(r.json.error.code, -32602, r.text);
    // eth_sendTransaction without an upstream node: refused before signing
    // (the audit count at the end shows nothing was signed).
    r = await call("eth_sendTransaction", [{ from: trader, to: "0x" + "11".repeat(20), value: "0x1", gas: "0x5208", maxFeePerGas: "0x1", maxPriorityFeePerGas: "0x1", nonce: "0x0", chainId: "0x7a69" }]);
    assert.equal(r.json.error.code, -32601, r.text);
    assert.match(r.json.error.message, /upstream.*Nothing was signed/s);
    // Unknown methods.
    for (const m of ["sigil_doesNotExist", "foo", "x".repeat(5000)]) {
      r = await call(m, []);
      assert.equal(r.json.error.code, -32601, r.text);
      assert.ok(r.text.length < 1000, "the error does not echo a huge method name");
    }
    // Huge batch: bounded with a clear error; nothing in it runs.
    const batch = Array.from({ length: 101 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "personal_sign", params: ["0x68656c6c6f", trader] }));
    r = await post(JSON.stringify(batch));
    assert.equal(r.json.error.code, -32600);
    assert.match(r.json.error.message, /limit of 100/);
    // Deep nesting, on /rpc and on REST.
    r = await post("[".repeat(100000) + "]".repeat(100000));
    assert.equal(r.json.error.code, -32600, r.text.slice(0, 200));
    assert.match(r.json.error.message, /deep|depth|nest/i);
    const deep = await sigil.rest("POST", "/v1/policy/explain", undefined);
    assert.ok(deep.status >= 400);
    const deepRest = await fetch(sigil.url + "/v1/policy/explain", {
      method: "POST", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: '{"tx":' + "[".repeat(5000) + "]".repeat(5000) + "}",
    });
    assert.equal(deepRest.status, 400);
    // Oversized body: refused from Content-Length before any body byte is read.
    const big = await raw(sigil.port, [`POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n`]);
    assert.match(big.data, /^HTTP\/1\.1 413/);
    const bigChunked = await raw(sigil.port, [`POST /rpc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`,
      ...Array.from({ length: 20 }, () => "10000\r\n" + "a".repeat(0x10000) + "\r\n")]);
    assert.match(bigChunked.data, /^HTTP\/1\.1 413/);
    // Oversized header, garbage, a bare LF request line.
    const hdr = await raw(sigil.port, [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`]);
    assert.match(hdr.data, /^HTTP\/1\.1 431/);
    const garbage = await raw(sigil.port, ["\x00\x01GARBAGE \xff\xfe\r\n\r\n"]);
    assert.match(garbage.data, /^HTTP\/1\.1 400/);
    // A chunked body's trailer is bounded like a header, before any login.
    const trailer = await raw(sigil.port, ["POST /rpc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n",
      ...Array.from({ length: 64 }, () => `X-T: ${"a".repeat(8 * 1024)}\r\n`), "\r\n"]);
    assert.match(trailer.data, /^HTTP\/1\.1 431/);
    // A transfer coding other than chunked is refused, not read as "no body".
    const gz = await raw(sigil.port, [`POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\nTransfer-Encoding: gzip\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n`]);
    assert.match(gz.data, /^HTTP\/1\.1 501/);
    assert.doesNotMatch(gz.data, /HTTP\/1\.1 200/);
    // Wrong types and out-of-range values on REST: 400, never 500.
    for (const expires of ["9223372036854775807d", "1.5h", "", "-1h", "401d", 3600]) {
      const t = await sigil.rest("POST", "/v1/tokens", { role: "agent", name: `exp-${String(expires).length}-${typeof expires}`, expires });
      assert.equal(t.status, 400, `expires ${JSON.stringify(expires)}: ${t.text}`);
    }
    for (const on of ["yes", 1, "true"]) {
      const l = await sigil.rest("POST", "/v1/lockdown", { on, reason: "x" });
      assert.equal(l.status, 400, `on ${JSON.stringify(on)}: ${l.text}`);
    }
    const typed = await sigil.rest("POST", "/v1/keys", { name: ["not", "a", "string"] });
    assert.ok(typed.status === 400, typed.text);

    // Slowloris: 40 connections trickle headers, 40 never finish their body.
    const t0 = Date.now();
    const slow = [];
    for (let i = 0; i < 40; i++) {
      slow.push(raw(sigil.port, ["POST /rpc HTTP/1.1\r\n", ...Array.from({ length: 30 }, (_, j) => `X-Slow-${j}: x\r\n`)], { gapMs: 300, waitMs: 15000 }));
      slow.push(raw(sigil.port, [`POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\nContent-Length: 100\r\n\r\n{"jsonrpc"`], { waitMs: 15000 }));
    }
    // Meanwhile others are served promptly.
    await sleep(500);
    for (let i = 0; i < 5; i++) {
      const s = Date.now();
      assert.equal((await fetch(sigil.url + "/healthz")).status, 200);
      const ok = await call("personal_sign", ["0x68656c6c6f", trader]);
      assert.ok(ok.json.result, ok.text);
      assert.ok(Date.now() - s < 1000, "served while slow clients hang on");
    }
    const slowResults = await Promise.all(slow);
    for (const s of slowResults) {
      assert.notEqual(s.closedAfter, null, "the server closed the slow connection");
    }
    assert.ok(Date.now() - t0 < 14000, `slow connections closed by the timeouts (${Date.now() - t0} ms)`);
    const signedBySlowTest = 5;

    // Still up; nothing from the bad input was signed.
    assert.equal((await fetch(sigil.url + "/healthz")).status, 200);
    assert.equal(await signedCount(sigil), before + signedBySlowTest);
    const verify = await sigil.rest("GET", "/v1/audit/verify");
    assert.equal(verify.status, 200, verify.text);

    // Request ids: a valid client id is echoed and logged; a bad one replaced.
    const mine = await fetch(sigil.url + "/healthz", { headers: { "x-request-id": "trace-42.a:b_c" } });
    assert.equal(mine.headers.get("x-request-id"), "trace-42.a:b_c");
    const tooLong = await fetch(sigil.url + "/healthz", { headers: { "x-request-id": "z".repeat(65) } });
    assert.match(tooLong.headers.get("x-request-id"), /^[0-9a-f]{32}$/);
    const spaced = await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId" }), { "x-request-id": "rpc-trace-7" });
    assert.equal(spaced.headers.get("x-request-id"), "rpc-trace-7");
    await sleep(300);

    // The log: JSON lines, request ids, principals by name, no secrets.
    const out = sigil.output();
    const lines = out.split("\n").filter((l) => l.startsWith("{"));
    assert.ok(lines.length > 20, `JSON log lines on stderr (${lines.length})`);
    const entries = lines.map((l) => JSON.parse(l));
    const rpcLine = entries.find((e) => e.request_id === "rpc-trace-7");
    assert.ok(rpcLine, "the client's request id is logged");
    assert.equal(rpcLine.rpc_method, "eth_chainId");
    assert.equal(rpcLine.principal, "bot-1");
    assert.equal(rpcLine.role, "agent");
    assert.equal(rpcLine.status, 200);
    assert.equal(typeof rpcLine.latency_us, "number");
    const signLine = entries.find((e) => e.rpc_method === "personal_sign" && e.decision === "signed");
    assert.ok(signLine && signLine.rule === "msg", JSON.stringify(signLine));
    assert.ok(entries.some((e) => e.status === 413 && e.error === "payload_too_large"), "transport errors are logged too");
    const lower = out.toLowerCase();
    assert.ok(!lower.includes(planted), "the imported private key is not in the log");
    assert.ok(!lower.includes(Buffer.from(planted, "hex").toString("base64").toLowerCase()), "nor its base64");
    for (const t of [admin, agent]) {
      assert.ok(!out.includes(t), "no bearer token in the log");
      assert.ok(!out.includes(t.slice(20)), "not even the secret half of one");
    }
  } finally {
    await sigil.stop();
  }
});

// Every REST route, asked with each method it serves, reaches its handler
// (whatever that answers, never "no such endpoint", 405 or the 500 of a
// route the table has and the dispatch does not serve); asked with any other
// method, it gets 405 and an Allow header naming the ones it serves
// (RFC 9110 §15.5.6). Mirrors src/server/rest_routes.cc.
test("REST: a known path with another method gets 405 and Allow", { skip, timeout: 60000 }, async () => {
  const routes = {
    "/v1/keys": ["GET", "POST"],
    "/v1/keys/import": ["GET", "POST"],  // GET: a key named "import"
    "/v1/keys/nokey": ["GET"],
    "/v1/keys/nokey/rotate": ["POST"],
    "/v1/policy": ["GET", "POST", "PUT"],
    "/v1/policy/explain": ["POST"],
    "/v1/policy/suggest": ["GET"],
    "/v1/tokens": ["GET", "POST"],
    "/v1/tokens/nobody": ["DELETE"],
    "/v1/tokens/nobody/totp": ["POST"],
    "/v1/approvals": ["GET"],
    "/v1/approvals/none": ["GET"],
    "/v1/approvals/none/approve": ["POST"],
    "/v1/approvals/none/reject": ["POST"],
    "/v1/lockdown": ["GET", "POST"],
    "/v1/agents/nobody/suspend": ["POST"],
    "/v1/agents/nobody/resume": ["POST"],
    "/v1/audit/verify": ["GET"],
    "/v1/audit/export": ["GET"],
    "/v1/audit/proof": ["GET"],
    "/v1/audit/report": ["GET"],
    "/v1/attest": ["POST"],
    "/v1/attest/check": ["GET"],
    "/v1/backup": ["POST"],
  };
  // Bodies most handlers refuse before doing anything: no key, policy,
  // token, lockdown or backup is made. (Suspending "nobody" is refused too:
  // no token has that name.)
  const harmless = { type: "no-such-type", on: "not-a-boolean", role: "no-such-role", name: 7 };
  const sigil = await new SigilServer().start();
  try {
    const auth = { authorization: `Bearer ${sigil.adminToken}`, "content-type": "application/json" };
    for (const [path, allowed] of Object.entries(routes)) {
      for (const method of ["GET", "POST", "PUT", "DELETE", "PATCH"]) {
        const withBody = method !== "GET" && method !== "DELETE";
        const r = await fetch(sigil.url + path, { method, headers: auth, body: withBody ? JSON.stringify(harmless) : undefined });
        const text = await r.text();
        const where = `${method} ${path}: ${r.status} ${text}`;
        if (allowed.includes(method)) {
          assert.notEqual(r.status, 405, where);
          assert.notEqual(r.status, 500, where);
          assert.doesNotMatch(text, /no such endpoint/, where);
        } else {
          // HEAD is answered wherever GET is (by the HTTP layer).
          const allow = allowed.flatMap((x) => (x === "GET" ? ["GET", "HEAD"] : [x])).join(", ");
          assert.equal(r.status, 405, where);
          assert.equal(r.headers.get("allow"), allow, where);
          assert.equal(JSON.parse(text).allow, allow, where);
        }
      }
    }
    // Unknown shapes are 404 whatever the method, extra segments included.
    for (const path of ["/v1/nope", "/v1/keys/a/b/c", "/v1/audit", "/v1/lockdown/x", "/v1/audit/verify/x", "/v1/backup/x"]) {
      for (const method of ["GET", "PUT"]) {
        const r = await fetch(sigil.url + path, { method, headers: auth, body: method === "GET" ? undefined : "{}" });
        assert.equal(r.status, 404, `${method} ${path}`);
      }
    }
    // HEAD on a GET route: the GET's status without a body.
    const head = await fetch(sigil.url + "/v1/keys", { method: "HEAD", headers: auth });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    // The table is consulted before the body is read.
    const notJson = await fetch(sigil.url + "/v1/keys", { method: "PUT", headers: auth, body: "not json" });
    assert.equal(notJson.status, 405);
    assert.equal((await sigil.rest("GET", "/v1/lockdown")).json.locked, false);
    assert.equal(await signedCount(sigil), 0);
  } finally {
    await sigil.stop();
  }
});

// The CLI refuses a JSON argument that repeats a name before sending it:
// re-sent as an object it would reach the daemon resolved (last one wins).
test("CLI: policy explain refuses a --tx that repeats a name", { skip, timeout: 30000 }, async () => {
  const sigil = await new SigilServer().start();
  try {
    assert.equal(sigil.cli(["key", "create", "k"]).code, 0);
    const to = (b) => "0x" + b.repeat(20);
    const r = sigil.cli(["policy", "explain", "--key", "k", "--tx", `{"to":"${to("11")}","value":"0x1","to":"${to("22")}"}`]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /duplicate key "to"/);
    const tx = `{"to":"${to("11")}","value":"0x1","nonce":"0x0","gas":"0x5208","maxFeePerGas":"0x1","maxPriorityFeePerGas":"0x1","chainId":"0x7a69"}`;
    const ok = sigil.cli(["policy", "explain", "--key", "k", "--tx", tx, "--json"]);
    assert.notEqual(ok.code, 2, ok.stdout + ok.stderr);
    assert.ok(ok.json?.decision, ok.stdout);
  } finally {
    await sigil.stop();
  }
});

// A JSON document inside a JSON string is bounded like a body: explain's tx
// given as text 450k levels deep is a 400, not a stack overflow on copy
// (any agent token may explain).
test("explain: a tx string nested 450k deep is refused and the daemon stays up", { skip, timeout: 30000 }, async () => {
  const sigil = await new SigilServer().start();
  try {
    assert.equal(sigil.cli(["key", "create", "k"]).code, 0);
    const deep = "{\"a\":" + "[".repeat(450000) + "]".repeat(450000) + "}";
    const r = await sigil.rest("POST", "/v1/policy/explain", { key: "k", kind: "eth_tx", tx: deep });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /nests deeper/);
    assert.equal((await fetch(sigil.url + "/healthz")).status, 200);
  } finally {
    await sigil.stop();
  }
});

// An unknown report format is a 400, not a JSON report the caller did not
// ask for (a script asking for "xml" must not parse JSON by accident).
test("audit report: format is json or csv; anything else is 400", { skip, timeout: 30000 }, async () => {
  const sigil = await new SigilServer().start();
  try {
    for (const [format, status] of [["json", 200], ["csv", 200], ["", 200], ["xml", 400], ["CSV", 400]]) {
      const r = await sigil.rest("GET", `/v1/audit/report${format ? "?format=" + format : ""}`);
      assert.equal(r.status, status, `${format}: ${r.text.slice(0, 200)}`);
      if (status === 400) assert.match(r.text, /json .*or csv/);
    }
  } finally {
    await sigil.stop();
  }
});
