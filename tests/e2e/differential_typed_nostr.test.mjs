// Differential test: Sigil's EIP-712 and NIP-01 implementations against
// ethers and nostr-tools, on random documents and events produced by
// tests/differential/gen_typed_nostr (built in $SIGIL_BUILD).
//
//   cd tests/e2e && SIGIL_BUILD=../../build node --test differential_typed_nostr.test.mjs
//
// Optional: SIGIL_DIFF_SEED=N picks another random seed (the default seed is
// fixed so a failure reproduces).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

import { TypedDataEncoder, verifyTypedData, getAddress } from 'ethers';
import { verifyEvent, getEventHash } from 'nostr-tools/pure';

const build = process.env.SIGIL_BUILD;
const generator = build ? path.join(build, 'tests', 'differential', 'gen_typed_nostr') : '';

function generate() {
  assert.ok(build, 'set SIGIL_BUILD to the CMake build directory');
  assert.ok(existsSync(generator), `generator not built: ${generator}`);
  const args = [];
  if (process.env.SIGIL_DIFF_SEED) args.push('--seed', process.env.SIGIL_DIFF_SEED);
  const text = execFileSync(generator, args, { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  return JSON.parse(text);
}

const data = generate();

test('generator produced enough cases', () => {
  assert.ok(data.eip712.length >= 200, `only ${data.eip712.length} EIP-712 documents`);
  assert.ok(data.nostr.length >= 200, `only ${data.nostr.length} Nostr events`);
});

test('EIP-712: ethers computes the same digest and recovers the signer', () => {
  let nested = 0;
  for (const [i, c] of data.eip712.entries()) {
    const types = { ...c.doc.types };
    delete types.EIP712Domain; // ethers derives the domain type itself
    const where = `seed ${data.seed}, document ${i}: ${JSON.stringify(c.doc).slice(0, 2000)}`;
    const digest = TypedDataEncoder.hash(c.doc.domain, types, c.doc.message);
    assert.equal(digest, c.digest, `digest differs (${where})`);
    const signer = verifyTypedData(c.doc.domain, types, c.doc.message, c.signature);
    assert.equal(getAddress(signer), getAddress(c.address), `signer differs (${where})`);
    // ethers picks the primary type itself; it must agree with ours.
    assert.equal(TypedDataEncoder.getPrimaryType(types), c.doc.primaryType, where);
    if (Object.values(types).some((fields) => fields.some((f) => /\]\[/.test(f.type)))) nested++;
  }
  assert.ok(nested > 0, 'no document with nested arrays was generated');
});

test('NIP-01: nostr-tools computes the same id and verifies the signature', () => {
  let escapes = 0;
  let unicode = 0;
  for (const [i, c] of data.nostr.entries()) {
    const ev = JSON.parse(c.event_json);
    const where = `seed ${data.seed}, event ${i}: ${c.event_json.slice(0, 2000)}`;
    assert.equal(ev.id, c.id, where);
    assert.equal(getEventHash(ev), ev.id, `id differs (${where})`);
    assert.equal(verifyEvent({ ...ev }), true, `signature rejected (${where})`);
    // A tampered copy must fail (guards against a verifier that says yes).
    assert.equal(verifyEvent({ ...ev, content: ev.content + 'x' }), false, where);
    if (/["\\\n\r\t\b\f]/.test(ev.content)) escapes++;
    if (/[^\x00-\x7f]/.test(ev.content)) unicode++;
  }
  assert.ok(escapes > 0 && unicode > 0, 'content lacked escapes or unicode');
});
