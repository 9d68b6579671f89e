// Hostile input against a running daemon, beyond bad_input.test.mjs: HTTP/1.1
// framing (pipelining, chunked edge cases, request smuggling shapes, Expect,
// HTTP/1.0, absolute-form, Host, HEAD/OPTIONS/TRACE), JSON edge cases
// (duplicate names, BOM, trailing data, odd numbers and strings), JSON-RPC 2.0
// corners (ids, notifications, batches), transaction-field ambiguities and
// Authorization header variants.
//
// After each case the daemon must still answer /healthz, and nothing must have
// been signed unless the request was valid (counted from the audit log).
//
// Written by an audit that found, among others, duplicate JSON names signed
// last-wins, two Authorization headers resolved first-wins and requests
// without Host accepted; each such test failed on the daemon before its fix.
import { describe, test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import net from "node:net";
import { Transaction } from "ethers";
import { SigilServer, SIGIL_BIN } from "./lib/harness.mjs";

const skip = !existsSync(SIGIL_BIN) && `sigil binary not built at ${SIGIL_BIN}`;

// ---------------------------------------------------------------------------
// Raw HTTP helpers.

// Parses as many complete HTTP/1.x responses as `buf` holds. `headFor[i]`
// says the i-th response answers a HEAD request (no body whatever
// Content-Length says).
function parseResponses(buf, headFor = []) {
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    const end = buf.indexOf("\r\n\r\n", pos);
    if (end < 0) break;
    const lines = buf.subarray(pos, end).toString("latin1").split("\r\n");
    const m = /^HTTP\/(\d\.\d) (\d{3})/.exec(lines[0]);
    if (!m) break;
    const headers = {};
    const all = [];
    for (const l of lines.slice(1)) {
      const i = l.indexOf(":");
      const k = l.slice(0, i).toLowerCase();
      const v = l.slice(i + 1).trim();
      all.push([k, v]);
      headers[k] = v;
    }
    const status = Number(m[2]);
    let bodyLen = 0;
    const isHead = headFor[out.length] === true;
    if (!(status < 200 || status === 204 || status === 304 || isHead)) bodyLen = Number(headers["content-length"] || 0);
    if (end + 4 + bodyLen > buf.length) break;
    const body = buf.subarray(end + 4, end + 4 + bodyLen).toString("utf8");
    let json;
    try { json = JSON.parse(body); } catch {}
    out.push({ version: m[1], status, headers, all, body, json });
    pos = end + 4 + bodyLen;
  }
  return { responses: out, rest: buf.subarray(pos) };
}

// Sends `chunks` on one connection (with `gapMs` between them), then collects
// what comes back until the server closes, `expect` complete responses have
// arrived (plus `graceMs` to catch anything extra), or `waitMs` passes.
function raw(port, chunks, { gapMs = 0, waitMs = 3000, expect = 1, graceMs = 150, headFor = [], endAfter = false } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let done = false;
    let graceTimer = null;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      sock.destroy();
      const { responses, rest } = parseResponses(buf, headFor);
      resolve({ closed, responses, text: buf.toString("latin1"), rest: rest.toString("latin1") });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (!graceTimer && parseResponses(buf, headFor).responses.length >= expect) {
        graceTimer = setTimeout(() => finish(false), graceMs);
      }
    });
    sock.on("error", () => {});
    sock.on("close", () => finish(true));
    sock.on("connect", async () => {
      for (const c of chunks) {
        if (sock.destroyed) return;
        sock.write(c);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
      if (endAfter && !sock.destroyed) sock.end();
    });
  });
}

const CHAIN = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] });
const CHAIN2 = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "eth_chainId", params: [] });

describe("hostile input", { skip, timeout: 60000 }, () => {
  let sigil, port, admin, agent, trader, nostrKey;

  // Raw POST bytes with a correct Content-Length.
  const postBytes = (body, { extra = "", path = "/rpc", token = agent, version = "1.1" } = {}) => {
    const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
    return Buffer.concat([
      Buffer.from(`POST ${path} HTTP/${version}\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n${extra}\r\n`),
      b,
    ]);
  };
  // POST /rpc through fetch; returns {status, text, json, headers}.
  const post = async (body, { token = agent, path = "/rpc", headers = {} } = {}) => {
    const r = await fetch(sigil.url + path, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers },
      body,
    });
    const text = await r.text();
    let json;
    try { json = JSON.parse(text); } catch {}
    return { status: r.status, text, json, headers: r.headers };
  };
  const call = (method, params, opts) => post(JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }), opts);

  // Every signature the daemon produced, from its audit log.
  const signatures = async () => {
    const r = await fetch(sigil.url + "/v1/audit/export", { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(r.status, 200);
    const log = Buffer.from((await r.json()).export_hex, "hex").toString("latin1");
    return (log.match(/"signature_hash":"[0-9a-f]{16,}"/g) || []).length;
  };
  const healthy = async () => {
    const r = await fetch(sigil.url + "/healthz");
    assert.equal(r.status, 200, "the daemon still answers /healthz");
  };
  // Runs `fn` and asserts it made exactly `n` signatures.
  const signsExactly = async (n, fn) => {
    const before = await signatures();
    await fn();
    assert.equal(await signatures() - before, n, `expected ${n} new signature(s) in the audit log`);
  };

  const tx = (over = {}) => {
    const o = { from: trader, to: "0x" + "11".repeat(20), value: "0x1", gas: "0x5208", maxFeePerGas: "0x1",
                maxPriorityFeePerGas: "0x1", nonce: "0x0", chainId: "0x7a69", ...over };
    for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
    return o;
  };
  // A JSON text of tx() with `extra` appended verbatim inside the object
  // (used to write duplicate member names, which JSON.stringify cannot).
  const txWith = (extra, over = {}) => JSON.stringify(tx(over)).slice(0, -1) + "," + extra + "}";

  before(async () => {
    sigil = await new SigilServer().start();
    port = sigil.port;
    admin = sigil.adminToken;
    const k = await sigil.rest("POST", "/v1/keys", { name: "trader", type: "secp256k1" });
    assert.equal(k.status, 201, k.text);
    trader = k.json.address;
    const n = await sigil.rest("POST", "/v1/keys", { name: "nos", type: "schnorr" });
    assert.equal(n.status, 201, n.text);
    nostrKey = "nos";
    const policy = { version: 1, rules: [
      { id: "tx", effect: "allow", match: { kind: "eth_tx", chain_id: [31337] } },
      { id: "msg", effect: "allow", match: { kind: "eth_message" } },
      { id: "typed", effect: "allow", match: { kind: "eth_typed_data" } },
      { id: "notes", effect: "allow", match: { kind: "nostr_event" } },
    ] };
    const p = await sigil.rest("POST", "/v1/policy", { policy });
    assert.equal(p.status, 200, p.text);
    const t = await sigil.rest("POST", "/v1/tokens", { role: "agent", name: "bot-1", keys: ["trader", "nos"] });
    assert.equal(t.status, 201, t.text);
    agent = t.json.token;
    // Control: a valid signature is counted.
    await signsExactly(1, async () => {
      const r = await call("eth_signTransaction", [tx()]);
      assert.ok(r.json.result, r.text);
    });
  });
  afterEach(async () => {
    if (sigil) await healthy();
  });
  after(async () => {
    if (!sigil) return;
    const v = await sigil.rest("GET", "/v1/audit/verify");
    assert.equal(v.status, 200, v.text);
    assert.equal(v.json.valid, true, v.text);
    await sigil.stop();
  });

  // -------------------------------------------------------------------------
  // HTTP/1.1 framing.

  test("pipelined requests on one connection are answered in order", async () => {
    const r = await raw(port, [Buffer.concat([postBytes(CHAIN), Buffer.from("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), postBytes(CHAIN2)])], { expect: 3 });
    assert.equal(r.responses.length, 3, r.text);
    assert.equal(r.responses[0].json.id, 1);
    assert.equal(r.responses[1].json.status, "ok");
    assert.equal(r.responses[2].json.id, 2);
  });

  test("chunked body with chunk extensions and a trailer is read; bad chunk sizes are 400 and close", async () => {
    const hex = CHAIN.length.toString(16);
    const ok = await raw(port, [`POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\nTransfer-Encoding: chunked\r\n\r\n` +
      `${hex};ext=1;name="q"\r\n${CHAIN}\r\n0\r\nX-Trailer: y\r\n\r\n`]);
    assert.equal(ok.responses[0]?.status, 200, ok.text);
    assert.equal(ok.responses[0].json.result, "0x7a69");
    for (const size of ["zz", "ffffffffffffffffffff", "-1", "2"]) {
      const bad = await raw(port, [`POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\n${CHAIN}\r\n0\r\n\r\n`]);
      assert.equal(bad.responses[0]?.status, 400, `chunk size ${size}: ${bad.text}`);
      assert.ok(bad.closed, `chunk size ${size}: connection closed`);
    }
    // Chunk data ended by a bare LF.
    const lf = await raw(port, [`POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\nTransfer-Encoding: chunked\r\n\r\n${hex}\r\n${CHAIN}\n0\r\n\r\n`]);
    assert.equal(lf.responses[0]?.status, 400, lf.text);
  });

  test("a trailer may not carry framing or credentials (Content-Length, Authorization in trailer: 400)", async () => {
    const hex = CHAIN.length.toString(16);
    const r = await raw(port, [`POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\nTransfer-Encoding: chunked\r\n\r\n` +
      `${hex}\r\n${CHAIN}\r\n0\r\nContent-Length: 5\r\nAuthorization: Bearer ${admin}\r\n\r\n`]);
    assert.equal(r.responses[0]?.status, 400, r.text);
  });

  test("Content-Length with Transfer-Encoding (either order) is refused and the connection closed: no smuggled request", async () => {
    const hex = CHAIN.length.toString(16);
    const smuggled = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    for (const hdrs of ["Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n"]) {
      const r = await raw(port, [`POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\n${hdrs}\r\n${hex}\r\n${CHAIN}\r\n0\r\n\r\n${smuggled}`], { expect: 2, graceMs: 300 });
      assert.equal(r.responses.length, 1, `one answer only: ${r.text}`);
      assert.equal(r.responses[0].status, 400, r.text);
      assert.ok(r.closed, "connection closed");
    }
    // Transfer codings other than a single chunked: 501 (or 400), never read as "no body".
    for (const te of ["chunked, chunked", "gzip\r\nTransfer-Encoding: chunked", "identity"]) {
      const r = await raw(port, [`POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\nTransfer-Encoding: ${te}\r\n\r\n${hex}\r\n${CHAIN}\r\n0\r\n\r\n${smuggled}`], { expect: 2, graceMs: 300 });
      assert.equal(r.responses.length, 1, `TE ${te}: ${r.text}`);
      assert.ok([400, 501].includes(r.responses[0].status), `TE ${te}: ${r.text}`);
      assert.ok(r.closed);
    }
  });

  test("Content-Length: conflicting, negative, signed, hex or overflowing values are 400; identical repeats are accepted", async () => {
    const n = CHAIN.length;
    for (const cl of [`${n}\r\nContent-Length: 3`, "-1", `+${n}`, "0x10", "99999999999999999999999", `${n}, 3`]) {
      const r = await raw(port, [`POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\nContent-Length: ${cl}\r\n\r\n${CHAIN}`]);
      assert.equal(r.responses[0]?.status, 400, `Content-Length ${JSON.stringify(cl)}: ${r.text}`);
      assert.ok(r.closed);
    }
    for (const cl of [`${n}\r\nContent-Length: ${n}`, `${n}, ${n}`, `000${n}`]) {
      const r = await raw(port, [postBytes(CHAIN).toString().replace(`Content-Length: ${n}`, `Content-Length: ${cl}`)]);
      assert.equal(r.responses[0]?.status, 200, `Content-Length ${JSON.stringify(cl)}: ${r.text}`);
    }
  });

  test("Expect: 100-continue gets 100 then the answer; an oversized one gets 413 and no 100", async () => {
    const head = `POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\nContent-Length: ${CHAIN.length}\r\nExpect: 100-continue\r\n\r\n`;
    const r = await raw(port, [head, CHAIN], { gapMs: 200, expect: 2 });
    assert.equal(r.responses[0]?.status, 100, r.text);
    assert.equal(r.responses[1]?.status, 200, r.text);
    const big = await raw(port, [`POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n`]);
    assert.equal(big.responses[0]?.status, 413, big.text);
    assert.ok(big.closed);
  });

  test("HTTP/1.0: closes without keep-alive, stays open with it; Connection: close is honoured", async () => {
    const r = await raw(port, ["GET /healthz HTTP/1.0\r\n\r\nGET /healthz HTTP/1.0\r\n\r\n"], { expect: 2, graceMs: 300 });
    assert.equal(r.responses.length, 1, r.text);
    assert.ok(r.closed);
    const ka = await raw(port, ["GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /healthz HTTP/1.0\r\n\r\n"], { expect: 2 });
    assert.equal(ka.responses.length, 2, ka.text);
    const close = await raw(port, [Buffer.concat([postBytes(CHAIN, { extra: "Connection: close\r\n" }), postBytes(CHAIN2)])], { expect: 2, graceMs: 300 });
    assert.equal(close.responses.length, 1, close.text);
    assert.ok(close.closed);
  });

  test("malformed header section: long URI / many headers 431; NUL, bare CR, space before colon, no colon, empty name 400", async () => {
    for (const req of [`GET /healthz?${"a".repeat(20000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
                       `GET /healthz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 2000 }, (_, i) => `X${i}: a\r\n`).join("")}\r\n`]) {
      const r = await raw(port, [req]);
      assert.equal(r.responses[0]?.status, 431, r.text.slice(0, 200));
      assert.ok(r.closed);
    }
    for (const req of ["GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", "GET /healthz\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
                       "GET /healthz HTTP/1.1\r\nHost: x\rX-Y: z\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n",
                       "GET /healthz HTTP/1.1\r\nHost: x\r\nfoo\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n",
                       "GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "GET /healthz http/1.1\r\nHost: x\r\n\r\n",
                       `POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\x00\r\nContent-Length: 2\r\n\r\n{}`]) {
      const r = await raw(port, [req]);
      assert.equal(r.responses[0]?.status, 400, `${JSON.stringify(req.slice(0, 60))}: ${r.text}`);
      assert.ok(r.closed);
    }
  });

  test("obs-fold is either refused (400) or replaced by SP (RFC 9112 §5.2)", async () => {
    const r = await raw(port, [`POST /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\r\n ${agent}\r\nContent-Length: ${CHAIN.length}\r\n\r\n${CHAIN}`]);
    const s = r.responses[0]?.status;
    assert.ok(s === 400 || (s === 200 && r.responses[0].json.result === "0x7a69"), r.text);
  });

  test("HEAD /healthz and HEAD /metrics carry no body (the next pipelined answer parses)", async () => {
    const r = await raw(port, ["HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"], { expect: 2, headFor: [true] });
    assert.equal(r.responses.length, 2, r.text);
    assert.equal(r.responses[0].status, 200);
    assert.equal(r.responses[0].body, "");
    assert.equal(r.responses[1].json.status, "ok", "no stray body bytes between the answers");
    assert.equal(r.rest, "");
    const m = await raw(port, [`HEAD /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`], { expect: 2, headFor: [true] });
    assert.equal(m.responses.length, 2, m.text.slice(0, 300));
    assert.equal(m.responses[1].json.status, "ok");
  });

  test("other methods on /rpc (GET, PUT, OPTIONS, TRACE, unknown, lowercase post) are 405 and run nothing", async () => {
    await signsExactly(0, async () => {
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "personal_sign", params: ["0x6869", trader] });
      for (const m of ["GET", "PUT", "OPTIONS", "TRACE", "FOO", "post", "DELETE"]) {
        const r = await raw(port, [`${m} /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\nContent-Length: ${body.length}\r\n\r\n${body}`]);
        assert.equal(r.responses[0]?.status, 405, `${m}: ${r.text}`);
        assert.doesNotMatch(r.text, /"result"/);
      }
    });
  });

  test("a connection closed mid-body or a body dripped slowly (within the timeout) harms nothing", async () => {
    await signsExactly(0, async () => {
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "personal_sign", params: ["0x6869", trader] });
      const cut = await raw(port, [postBytes(body).subarray(0, postBytes(body).length - 10)], { endAfter: true, waitMs: 1000 });
      assert.equal(cut.responses.length, 0, cut.text);
    });
    const head = postBytes(CHAIN, { extra: "Connection: close\r\n" });
    const split = head.length - CHAIN.length;
    const drip = [head.subarray(0, split), ...CHAIN.match(/.{1,6}/g)];
    const r = await raw(port, drip, { gapMs: 40, waitMs: 5000 });
    assert.equal(r.responses[0]?.json?.result, "0x7a69", r.text);
  });

  test("request bytes after Content-Length are read as the next request, not as body", async () => {
    const r = await raw(port, [postBytes(CHAIN).toString() + "XXXX\r\n\r\n"], { expect: 2 });
    assert.equal(r.responses[0]?.status, 200, r.text);
    assert.equal(r.responses[1]?.status, 400, r.text);
  });

  test("HTTP/1.1 request without Host, or with two Host fields, must get 400 (RFC 9112 §3.2)",
    async () => {
      const none = await raw(port, ["GET /healthz HTTP/1.1\r\n\r\n"]);
      const two = await raw(port, ["GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"]);
      assert.deepEqual([none.responses[0]?.status, two.responses[0]?.status], [400, 400], "no Host, two Host");
    });

  test("an HTTP/1.0 message with Transfer-Encoding has faulty framing: close after it (RFC 9112 §6.1)",
    async () => {
      const hex = CHAIN.length.toString(16);
      const r = await raw(port, [`POST /rpc HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nAuthorization: Bearer ${agent}\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `${hex}\r\n${CHAIN}\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`], { expect: 2, graceMs: 300 });
      assert.ok(r.responses.length <= 1, `only the first message may be answered: ${r.text}`);
      assert.ok(r.closed, "connection closed");
    });

  test("absolute-form request targets must be accepted (RFC 9112 §3.2.2)",
    async () => {
      const h = await raw(port, ["GET http://x/healthz HTTP/1.1\r\nHost: x\r\n\r\n"]);
      assert.equal(h.responses[0]?.status, 200, h.text);
      const r = await raw(port, [postBytes(CHAIN).toString().replace("POST /rpc", `POST http://127.0.0.1:${port}/rpc`)]);
      assert.equal(r.responses[0]?.json?.result, "0x7a69", r.text);
    });

  test("405 must carry Allow (RFC 9110 §15.5.6); HEAD must work wherever GET does (RFC 9110 §9.1, §9.3.2)",
    async () => {
      const problems = [];
      const r = await raw(port, [`GET /rpc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${agent}\r\n\r\n`]);
      assert.equal(r.responses[0]?.status, 405);
      if (!/POST/.test(r.responses[0].headers.allow || "")) problems.push("405 from GET /rpc has no Allow: POST");
      for (const path of ["/v1/keys", "/v1/policy", "/v1/audit/verify"]) {
        const g = await raw(port, [`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\n\r\n`]);
        const h = await raw(port, [`HEAD ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${admin}\r\n\r\n`], { headFor: [true] });
        if (h.responses[0]?.status !== g.responses[0]?.status) problems.push(`HEAD ${path} ${h.responses[0]?.status}, GET ${g.responses[0]?.status}`);
      }
      assert.deepEqual(problems, []);
    });

  test("a 204 response must not carry Content-Length (RFC 9110 §8.6)",
    async () => {
      for (const body of ['{"jsonrpc":"2.0","method":"eth_chainId"}', '[{"jsonrpc":"2.0","method":"eth_chainId"}]']) {
        const r = await raw(port, [postBytes(body)]);
        assert.equal(r.responses[0]?.status, 204, r.text);
        assert.equal(r.responses[0].headers["content-length"], undefined, r.text);
      }
    });

  test("SHOULD-level: HTTP/1.2 read as 1.1, leading empty line ignored, responses say HTTP/1.1 (RFC 9112 §2.2, §2.3; RFC 9110 §2.5)",
    async () => {
      const v12 = await raw(port, ["GET /healthz HTTP/1.2\r\nHost: x\r\n\r\n"]);
      const crlf = await raw(port, ["\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"]);
      const v10 = await raw(port, ["GET /healthz HTTP/1.0\r\n\r\n"]);
      assert.deepEqual({ v12: v12.responses[0]?.status, crlf: crlf.responses[0]?.status, v10: v10.responses[0]?.version },
                       { v12: 200, crlf: 200, v10: "1.1" });
    });

  // -------------------------------------------------------------------------
  // Authorization header variants.

  test("credentials only from 'Authorization: Bearer': not from the query string, Basic, X-Api-Key, a prefix or suffix of a token", async () => {
    const variants = [
      ["/rpc?token=" + agent, ""], ["/rpc?access_token=" + agent, ""],
      ["/rpc", `Authorization: Basic ${Buffer.from("x:" + agent).toString("base64")}\r\n`],
      ["/rpc", `X-Api-Key: ${agent}\r\n`], ["/rpc", `Authorization: Bearer ${agent.slice(0, 24)}\r\n`],
      ["/rpc", `Authorization: Bearer ${agent}x\r\n`], ["/rpc", `Authorization: Bearer ${agent.toUpperCase()}\r\n`],
      ["/rpc", "Authorization: Bearer \r\n"], ["/rpc", `Authorization: Bearer${agent}\r\n`],
      ["/rpc", `Authorization: Bearer ${"a".repeat(15000)}\r\n`],
      ["/rpc", `Authorization: Bearer ${agent}, Bearer ${admin}\r\n`],
    ];
    for (const [path, auth] of variants) {
      const r = await raw(port, [`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: ${CHAIN.length}\r\n\r\n${CHAIN}`]);
      assert.equal(r.responses[0]?.status, 401, `${path} ${auth.slice(0, 40)}: ${r.text}`);
      assert.equal(r.responses[0].json?.error?.code, -32001);
      assert.doesNotMatch(r.text, new RegExp(agent.slice(4, 30)), "the token is not echoed");
    }
  });

  test("two Authorization fields are ambiguous and must be refused, not 'first one wins' (RFC 9110 §5.3)",
    async () => {
      const got = {};
      for (const [name, a, b] of [["agent,admin", agent, admin], ["admin,agent", admin, agent], ["bad,agent", "sgl_bad", agent], ["admin,bad", admin, "sgl_bad"]]) {
        const r = await raw(port, [`GET /v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a}\r\nAuthorization: Bearer ${b}\r\n\r\n`]);
        got[name] = r.responses[0]?.status;
      }
      // GET /v1/tokens is admin-only: 200 means the admin token was used.
      for (const [name, status] of Object.entries(got)) assert.ok([400, 401].includes(status), `two Authorization fields (${name}): ${JSON.stringify(got)}`);
    });

  test("the auth scheme is case-insensitive and may be followed by several spaces (RFC 9110 §11.1, §11.4)",
    async () => {
      const got = {};
      for (const scheme of ["bearer ", "BEARER ", "Bearer  "]) {
        const r = await raw(port, [`GET /v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: ${scheme}${admin}\r\n\r\n`]);
        got[scheme] = r.responses[0]?.status;
      }
      assert.deepEqual(got, { "bearer ": 200, "BEARER ": 200, "Bearer  ": 200 });
    });

  // -------------------------------------------------------------------------
  // JSON (RFC 8259).

  test("JSON: trailing data, comments, NaN, single quotes, trailing commas, leading zeros, hex numbers, raw control chars, UTF-16 are -32700", async () => {
    await signsExactly(0, async () => {
      const ps = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "personal_sign", params: ["0x6869", trader] });
      for (const body of [ps + ps, ps + "x", `${ps}\n${ps}`, '{"jsonrpc":"2.0",/*x*/"id":1,"method":"eth_chainId"}',
                          '{"jsonrpc":"2.0","id":NaN,"method":"eth_chainId"}', "{'jsonrpc':'2.0','id':1,'method':'eth_chainId'}",
                          '{"jsonrpc":"2.0","id":1,"method":"eth_chainId",}', '{"jsonrpc":"2.0","id":01,"method":"eth_chainId"}',
                          '{"jsonrpc":"2.0","id":0x1,"method":"eth_chainId"}', '{"jsonrpc":"2.0","id":"a\tb","method":"eth_chainId"}',
                          Buffer.from(CHAIN, "utf16le")]) {
        const r = await post(body);
        assert.equal(r.json?.error?.code, -32700, `${JSON.stringify(String(body).slice(0, 60))}: ${r.text}`);
        assert.equal(r.json.id, null);
      }
    });
  });

  test("JSON: invalid UTF-8 (overlong, encoded surrogate, > U+10FFFF) and lone surrogate escapes are -32700; BOM tolerated", async () => {
    const wrap = (bytes) => Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":"'), Buffer.from(bytes), Buffer.from('","method":"eth_chainId"}')]);
    for (const bytes of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80]]) {
      const r = await post(wrap(bytes));
      assert.equal(r.json?.error?.code, -32700, `${Buffer.from(bytes).toString("hex")}: ${r.text}`);
    }
    for (const esc of ["\\ud800", "\\udc00", "\\ud800\\u0041"]) {
      const r = await post(`{"jsonrpc":"2.0","id":"${esc}","method":"eth_chainId"}`);
      assert.equal(r.json?.error?.code, -32700, `${esc}: ${r.text}`);
    }
    const bom = await post("\ufeff" + CHAIN);
    assert.ok(bom.json?.result === "0x7a69" || bom.json?.error?.code === -32700, bom.text);
  });

  test("JSON: strings round-trip exactly (\\u0000, astral, noncharacters); a \\u0000 in a key name is a different key", async () => {
    for (const id of ["a\u0000b", "😀", "\uffff", "x".repeat(1000)]) {
      const r = await post(JSON.stringify({ jsonrpc: "2.0", id, method: "eth_chainId" }));
      assert.equal(r.json?.id, id, r.text.slice(0, 200));
    }
    const r = await post('{"jsonrpc":"2.0","id":1,"method\\u0000":"personal_sign","method":"eth_chainId","params":[]}');
    assert.equal(r.json.result, "0x7a69", r.text);
  });

  test("JSON: deep nesting of objects and arrays (10k) is -32600 naming the limit, not a crash", async () => {
    for (const body of ["[".repeat(10000), '{"a":'.repeat(10000), `{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":${"[".repeat(10000)}${"]".repeat(10000)}}`]) {
      const r = await post(body);
      assert.equal(r.json?.error?.code, -32600, r.text.slice(0, 200));
      assert.match(r.json.error.message, /deep|nest|depth/i);
    }
  });

  test("answers are valid UTF-8 JSON even when an echoed name is cut inside a multibyte character", async () => {
    for (const method of ["f" + "é".repeat(60), "eth_signX" + "é".repeat(60), "eth_X" + "é".repeat(60), "x" + "😀".repeat(40)]) {
      const r = await fetch(sigil.url + "/rpc", { method: "POST", headers: { authorization: `Bearer ${agent}` }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: [] }) });
      const bytes = Buffer.from(await r.arrayBuffer());
      const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);  // throws on invalid UTF-8
      assert.equal(JSON.parse(text).error.code, -32601);
      assert.ok(bytes.length < 400, "a long method name is not echoed in full");
    }
  });

  // -------------------------------------------------------------------------
  // JSON-RPC 2.0.

  test("JSON-RPC ids: null, strings, integers up to 2^64-1 echoed; objects, arrays, booleans are -32600 with id null", async () => {
    for (const [idText, expected] of [["null", null], ['"abc"', "abc"], ["0", 0], ["-5", -5], ["9223372036854775808", 9223372036854775808n]]) {
      const r = await post(`{"jsonrpc":"2.0","id":${idText},"method":"eth_chainId","params":[]}`);
      assert.equal(r.json?.result, "0x7a69", r.text);
      if (typeof expected === "bigint") assert.match(r.text, new RegExp(`"id":${idText}[,}]`), "a big id is echoed digit for digit");
      else assert.equal(r.json.id, expected);
    }
    for (const idText of ['{"a":1}', "[1]", "true"]) {
      const r = await post(`{"jsonrpc":"2.0","id":${idText},"method":"eth_chainId","params":[]}`);
      assert.equal(r.json?.error?.code, -32600, r.text);
      assert.equal(r.json.id, null);
    }
  });

  test("fractional and exponent ids are Numbers and must be echoed (JSON-RPC 2.0 §4: 'SHOULD NOT', not 'MUST NOT')",
    async () => {
      for (const idText of ["1.5", "1.0", "1e2"]) {
        const r = await post(`{"jsonrpc":"2.0","id":${idText},"method":"eth_chainId","params":[]}`);
        assert.equal(r.json?.result, "0x7a69", `id ${idText}: ${r.text}`);
        assert.equal(r.json.id, Number(idText));
      }
    });

  test("JSON-RPC: jsonrpc missing or not \"2.0\", method missing/non-string, params scalar are -32600; method names are case-sensitive", async () => {
    for (const body of ['{"jsonrpc":"1.0","id":1,"method":"eth_chainId"}', '{"id":1,"method":"eth_chainId"}', '{"jsonrpc":2,"id":1,"method":"eth_chainId"}',
                        '{"jsonrpc":"2.0","id":1}', '{"jsonrpc":"2.0","id":1,"method":5}', '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":5}',
                        '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":"x"}', "{}", '"x"', "null", "-0", "true"]) {
      const r = await post(body);
      assert.equal(r.json?.error?.code, -32600, `${body}: ${r.text}`);
    }
    for (const m of ["ETH_CHAINID", "Eth_chainId", " eth_chainId", "PERSONAL_SIGN", "rpc.discover"]) {
      const r = await call(m, []);
      assert.equal(r.json?.error?.code, -32601, `${m}: ${r.text}`);
    }
  });

  // JSON-RPC 2.0 §4.2 wants params an Array or an Object; Sigil reads a null
  // as omitted on purpose (src/server/json_rpc.h): nothing is ambiguous, and
  // clients that serialise an absent field as null keep working.
  test("JSON-RPC: params null means omitted (a documented leniency)", async () => {
    const r = await post('{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":null}');
    assert.equal(r.json?.result, "0x7a69", r.text);
  });

  test("JSON-RPC notifications: no body (204), also for errors; an all-notification batch returns nothing", async () => {
    for (const body of ['{"jsonrpc":"2.0","method":"eth_chainId"}', '{"jsonrpc":"2.0","method":"nope"}',
                        '[{"jsonrpc":"2.0","method":"eth_chainId"},{"jsonrpc":"2.0","method":"nope"}]']) {
      const r = await post(body);
      assert.equal(r.status, 204, `${body}: ${r.status} ${r.text}`);
      assert.equal(r.text, "");
    }
  });

  test("JSON-RPC notification to a signing method: no answer, and the signature it made is in the audit log (never invisible)", async () => {
    // JSON-RPC 2.0 requires a server to process notifications; for a custody
    // daemon the one thing that must hold is that it is recorded.
    await signsExactly(1, async () => {
      const r = await post(JSON.stringify({ jsonrpc: "2.0", method: "personal_sign", params: ["0x6e6f7469667921", trader] }));
      assert.equal(r.status, 204);
      assert.equal(r.text, "");
    });
  });

  test("JSON-RPC batches: empty is one -32600 object; non-objects and nested batches get one -32600 each; notifications are left out", async () => {
    let r = await post("[]");
    assert.ok(!Array.isArray(r.json), r.text);
    assert.equal(r.json.error.code, -32600);
    r = await post("[1,2]");
    assert.equal(r.json.length, 2);
    for (const e of r.json) assert.equal(e.error.code, -32600);
    r = await post(`[[${CHAIN}]]`);
    assert.equal(r.json.length, 1);
    assert.equal(r.json[0].error.code, -32600);
    r = await post('[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"foo":"bar"},{"jsonrpc":"2.0","id":3,"method":"nope"},{"jsonrpc":"2.0","method":"eth_chainId"}]');
    assert.equal(r.json.length, 3, r.text);
    assert.equal(r.json.find((x) => x.id === 1).result, "0x7a69");
    assert.equal(r.json.find((x) => x.id === 3).error.code, -32601);
    assert.equal(r.json.find((x) => x.id === null).error.code, -32600);
  });

  // -------------------------------------------------------------------------
  // Duplicate member names: a signing ambiguity. JSON parsers differ on which
  // duplicate wins (first, last, error), so a request another component
  // inspected (an agent-side guard, a proxy, a UI) may mean something else to
  // Sigil. RFC 8259 §4 says names SHOULD be unique; RFC 7493 (I-JSON) §2.3
  // forbids duplicates. Sigil's own policy parser, typed-data and nostr parsers
  // refuse duplicates when given text: the same must hold for objects.

  test("eth_signTransaction with a duplicate 'to' or 'value' must be refused, not signed with the last one",
    async () => {
      await signsExactly(0, async () => {
        for (const extra of [`"to":"0x${"22".repeat(20)}"`, '"value":"0xde0b6b3a7640000"', '"chainId":"0x7a69"', '"data":"0x","data":"0x"']) {
          const r = await post(`{"jsonrpc":"2.0","id":1,"method":"eth_signTransaction","params":[${txWith(extra)}]}`);
          assert.ok(r.json?.error, `duplicate ${extra.slice(0, 12)} must be refused: ${r.text.slice(0, 160)}`);
          assert.ok([-32600, -32602].includes(r.json.error.code), r.text);
        }
      });
    });

  test("a request object with two 'params' (or two 'method') must be refused",
    async () => {
      await signsExactly(0, async () => {
        const r = await post(`{"jsonrpc":"2.0","id":1,"method":"eth_signTransaction","params":[${JSON.stringify(tx())}],"params":[${JSON.stringify(tx({ value: "0x2" }))}]}`);
        assert.equal(r.json?.error?.code, -32600, r.text.slice(0, 160));
        const m = await post(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId","method":"personal_sign","params":["0x6869","${trader}"]}`);
        assert.equal(m.json?.error?.code, -32600, m.text.slice(0, 160));
      });
    });

  test("eth_signTypedData_v4 refuses duplicate keys as a string but signs them as an object",
    async () => {
      const td = (message, domain = '{"name":"x","chainId":31337}') =>
        `{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"chainId","type":"uint256"}],"Mail":[{"name":"amount","type":"uint256"}]},"primaryType":"Mail","domain":${domain},"message":${message}}`;
      // Control: the string form is refused, the valid object form signs.
      const asString = await call("eth_signTypedData_v4", [trader, td('{"amount":"1","amount":"1000"}')]);
      assert.match(asString.json?.error?.message || "", /duplicate/, asString.text);
      await signsExactly(0, async () => {
        for (const doc of [td('{"amount":"1","amount":"1000"}'), td('{"amount":"1"}', '{"name":"x","chainId":1,"chainId":31337}')]) {
          const r = await post(`{"jsonrpc":"2.0","id":1,"method":"eth_signTypedData_v4","params":["${trader}",${doc}]}`);
          assert.equal(r.json?.error?.code, -32602, r.text.slice(0, 200));
        }
      });
    });

  test("sigil_signNostrEvent with a duplicate 'content' or 'kind' must be refused",
    async () => {
      await signsExactly(0, async () => {
        for (const ev of ['{"created_at":1,"kind":1,"tags":[],"content":"hello","content":"evil"}', '{"created_at":1,"kind":7,"tags":[],"content":"x","kind":1}']) {
          const r = await post(`{"jsonrpc":"2.0","id":1,"method":"sigil_signNostrEvent","params":["${nostrKey}",${ev}]}`);
          assert.equal(r.json?.error?.code, -32602, r.text.slice(0, 200));
        }
      });
    });

  test("POST /v1/policy {policy: {...}} with a duplicate key must be refused like document_text is (doc/policy.md)",
    async () => {
      const before = (await sigil.rest("GET", "/v1/policy")).json;
      const doc = '{"version":99,"rules":[{"id":"x","effect":"deny","match":{"kind":"eth_tx"},"effect":"allow"}]}';
      const asText = await sigil.rest("POST", "/v1/policy", { document_text: doc });
      assert.equal(asText.status, 400, asText.text);
      assert.match(asText.text, /duplicate key/);
      const r = await fetch(sigil.url + "/v1/policy", { method: "POST", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
                                                        body: `{"policy":${doc}}` });
      const text = await r.text();
      let applied = "";
      if (r.status === 200) {
        applied = ` -- applied rule effect: ${(await sigil.rest("GET", "/v1/policy")).json?.policy?.rules?.[0]?.effect}`;
        // Put the test policy back for the tests that follow.
        const restore = await sigil.rest("POST", "/v1/policy", { policy: { ...before.policy, version: 100 } });
        assert.equal(restore.status, 200, restore.text);
      }
      assert.equal(r.status, 400, text + applied);
    });

  // -------------------------------------------------------------------------
  // Transaction fields.

  test("eth_signTransaction refuses conflicting or impossible fields and signs nothing", async () => {
    await signsExactly(0, async () => {
      const cases = [
        [{ input: "0xabcd", data: "0x1234" }, "input"], [{ gasLimit: "0x100000" }, "gasLimit"],
        [{ type: "0x2", gasPrice: "0x5" }, "gasPrice"], [{ gasPrice: "0x5" }, "gasPrice"],
        [{ type: "0x0", gasPrice: "0x5" }, "gasPrice"], [{ maxPriorityFeePerGas: "0x10" }, "maxPriorityFeePerGas"],
        [{ type: "0x3" }, "type"], [{ type: "0x4" }, "type"], [{ type: "0x7e" }, "type"],
        [{ maxFeePerBlobGas: "0x1", blobVersionedHashes: ["0x01" + "00".repeat(31)] }, null],
        [{ value: "0x" }, "value"], [{ value: "0x" + "1" + "0".repeat(64) }, "value"], [{ value: "-0x1" }, "value"],
        [{ value: -1 }, "value"], [{ value: 1.5 }, "value"], [{ value: 1e30 }, "value"], [{ value: true }, "value"],
        [{ value: "0x1 " }, "value"], [{ value: " 0x1" }, "value"], [{ value: "+1" }, "value"], [{ value: "1 ether" }, "value"],
        [{ value: "115792089237316195423570985008687907853269984665640564039457584007913129639936" }, "value"],
        [{ nonce: "0x10000000000000000" }, "nonce"], [{ gas: "0x10000000000000000" }, "gas"],
        [{ chainId: "0x0" }, "chainId"], [{ chainId: "0x" }, "chainId"], [{ chainId: "0xffffffffffffffffffff" }, "chainId"],
        [{ to: "" }, "to"], [{ to: "0x" }, "to"], [{ to: "0x2C7536E3605D9C16a7a3D7b1898e529396a65c23" }, "to"],
        [{ input: "0xabc" }, "input"], [{ input: "abcd" }, "input"], [{ accessList: "x" }, "accessList"],
      ];
      for (const [over, field] of cases) {
        const r = await call("eth_signTransaction", [tx(over)]);
        assert.equal(r.json?.error?.code, -32602, `${JSON.stringify(over)}: ${r.text.slice(0, 200)}`);
        if (field) assert.equal(r.json.error.data?.field, field, `${JSON.stringify(over)}: ${r.text.slice(0, 200)}`);
      }
      // JSON numbers beyond 2^53 would lose precision in most clients: refused.
      for (const num of ["9007199254740993", "18446744073709551617", "12345678901234567890123", "1e3"]) {
        const r = await post(`{"jsonrpc":"2.0","id":1,"method":"eth_signTransaction","params":[${txWith(`"value":${num}`, { value: undefined })}]}`);
        assert.equal(r.json?.error?.code, -32602, `value ${num}: ${r.text.slice(0, 200)}`);
      }
    });
  });

  test("eth_signTransaction signs exactly what was asked: equal input/data, equal gas/gasLimit, contract creation with value, 2^256-1", async () => {
    const cases = [
      [{ input: "0xabcd", data: "0xabcd" }, (t) => t.data === "0xabcd"],
      [{ gasLimit: "0x5208" }, (t) => t.gasLimit === 21000n],
      [{ to: undefined, value: "0xde0b6b3a7640000", data: "0x6000" }, (t) => t.to === null && t.value === 10n ** 18n],
      [{ value: "0x" + "f".repeat(64) }, (t) => t.value === 2n ** 256n - 1n],
      [{ value: "1000" }, (t) => t.value === 1000n],
    ];
    await signsExactly(cases.length, async () => {
      for (const [over, check] of cases) {
        const r = await call("eth_signTransaction", [tx(over)]);
        assert.ok(r.json?.result, `${JSON.stringify(over)}: ${r.text}`);
        const t = Transaction.from(r.json.result);
        assert.ok(check(t), `${JSON.stringify(over)} decoded as ${JSON.stringify(t.toJSON())}`);
        assert.equal(t.from.toLowerCase(), trader.toLowerCase());
        assert.equal(t.chainId, 31337n);
      }
    });
  });

  // execution-apis' QUANTITY is ^0x(0|[1-9a-f][0-9a-f]*)$; Sigil reads
  // leading zeros and 0X on purpose: the value is the same, nothing is
  // ambiguous, and older clients send them. What is signed is exactly that value.
  test("QUANTITY with leading zeros or 0X is read as its value (a documented leniency)", async () => {
    await signsExactly(5, async () => {
      for (const [over, field, want] of [[{ value: "0x00" }, "value", 0n], [{ value: "0x01" }, "value", 1n], [{ nonce: "0x00" }, "nonce", 0],
                                         [{ chainId: "0x07a69" }, "chainId", 31337n], [{ value: "0X1" }, "value", 1n]]) {
        const r = await call("eth_signTransaction", [tx(over)]);
        assert.ok(r.json?.result, `${JSON.stringify(over)}: ${r.text.slice(0, 160)}`);
        assert.equal(Transaction.from(r.json.result)[field], want, JSON.stringify(over));
      }
    });
  });

  test("a known field Sigil cannot sign (authorizationList, EIP-7702) must be refused, not silently dropped",
    async () => {
      await signsExactly(0, async () => {
        const r = await call("eth_signTransaction", [tx({ authorizationList: [{ chainId: "0x7a69", address: "0x" + "44".repeat(20), nonce: "0x0", yParity: "0x0", r: "0x1", s: "0x1" }] })]);
        assert.equal(r.json?.error?.code, -32602, r.text.slice(0, 200));
      });
    });

  test("nonce 2^64-1 can never be valid (EIP-2681: nonce < 2^64-1)",
    async () => {
      await signsExactly(0, async () => {
        const r = await call("eth_signTransaction", [tx({ nonce: "0xffffffffffffffff" })]);
        assert.equal(r.json?.error?.code, -32602, r.text.slice(0, 200));
      });
    });
});
