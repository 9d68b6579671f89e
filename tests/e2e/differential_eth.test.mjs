// Differential test: transactions and personal_sign messages signed by Sigil
// (tests/differential/gen_eth) must be read back identically by ethers 6.
//
// Needs SIGIL_BUILD (the build directory holding tests/differential/gen_eth).
// SIGIL_DIFF_SEED picks the generator seed (default fixed, printed).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transaction, verifyMessage, hashMessage, getBytes, toUtf8Bytes, hexlify, keccak256 } from 'ethers';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = N / 2n;
const PER_TYPE = 1000;
const MESSAGES = 250;

const build = process.env.SIGIL_BUILD;
const gen = build ? path.join(build, 'tests', 'differential', 'gen_eth') : '';
const seed = process.env.SIGIL_DIFF_SEED ?? '20260601';

let data;

before(() => {
  assert.ok(build, 'SIGIL_BUILD must name the build directory');
  assert.ok(existsSync(gen), `generator not built: ${gen}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'sigil-diff-eth-'));
  try {
    const out = path.join(dir, 'eth.json');
    execFileSync(gen, [seed, out, String(PER_TYPE), String(MESSAGES)], { stdio: ['ignore', 'pipe', 'inherit'] });
    data = JSON.parse(readFileSync(out, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`# differential_eth: seed ${seed}, ${data.transactions.length} transactions, ${data.messages.length} messages`);
});

// Compares one generated transaction with ethers' reading of its raw bytes;
// returns a list of mismatch descriptions (empty when all agree).
function compareTx(e) {
  const problems = [];
  const check = (name, got, want) => {
    if (got !== want) problems.push(`${name}: ethers ${got} != sigil ${want}`);
  };
  let tx;
  try {
    tx = Transaction.from(e.raw);
  } catch (err) {
    return [`ethers refused the raw transaction: ${err.shortMessage ?? err.message}`];
  }
  check('type', tx.type, e.type);
  check('chainId', tx.chainId, BigInt(e.chainId));
  check('nonce', BigInt(tx.nonce), BigInt(e.nonce));
  check('gasLimit', tx.gasLimit, BigInt(e.gasLimit));
  if (e.type === 2) {
    check('maxFeePerGas', tx.maxFeePerGas, BigInt(e.maxFeePerGas));
    check('maxPriorityFeePerGas', tx.maxPriorityFeePerGas, BigInt(e.maxPriorityFeePerGas));
    check('gasPrice', tx.gasPrice, null);
  } else {
    check('gasPrice', tx.gasPrice, BigInt(e.gasPrice));
  }
  check('to', tx.to, e.to);
  check('value', tx.value, BigInt(e.value));
  check('data', tx.data, e.data);
  if (e.type === 0) {
    check('accessList', tx.accessList, null);
  } else {
    check('accessList', JSON.stringify(tx.accessList), JSON.stringify(e.accessList));
  }
  check('from', tx.from, e.from);
  check('hash', tx.hash, e.hash);
  check('hash = keccak(raw)', keccak256(e.raw), e.hash);
  check('unsignedSerialized', tx.unsignedSerialized, e.unsigned);
  check('unsignedHash', tx.unsignedHash, e.signingHash);
  check('serialized', tx.serialized, e.raw);
  const sig = tx.signature;
  check('r', sig.r, e.r);
  check('s', sig.s, e.s);
  check('yParity', sig.yParity, e.yParity);
  if (e.type === 0) {
    check('v (networkV)', sig.networkV, BigInt(e.v));
  } else {
    check('v', BigInt(e.v), BigInt(e.yParity));
  }
  if (BigInt(sig.s) > HALF_N) problems.push(`s is high: ${sig.s}`);
  if (BigInt(sig.r) === 0n || BigInt(sig.r) >= N) problems.push(`r out of range: ${sig.r}`);
  return problems;
}

function checkType(type) {
  const txs = data.transactions.filter((e) => e.type === type);
  assert.ok(txs.length >= PER_TYPE, `expected >= ${PER_TYPE} type-${type} transactions, got ${txs.length}`);
  const failures = [];
  let creations = 0;
  let withAccessList = 0;
  let bigValues = 0;
  for (const [i, e] of txs.entries()) {
    if (e.to === null) creations++;
    if (e.accessList.length > 0) withAccessList++;
    if (BigInt(e.value) >= 1n << 128n) bigValues++;
    const problems = compareTx(e);
    if (problems.length > 0) failures.push(`#${i} ${e.raw.slice(0, 40)}...: ${problems.join('; ')}`);
  }
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${txs.length} type-${type} transactions differ`);
  // The generator really exercised the interesting shapes.
  assert.ok(creations > 0, 'no contract creations generated');
  assert.ok(bigValues > 0, 'no values >= 2^128 generated');
  if (type !== 0) assert.ok(withAccessList > 0, 'no access lists generated');
}

test('legacy EIP-155 transactions match ethers', () => checkType(0));
test('EIP-2930 transactions match ethers', () => checkType(1));
test('EIP-1559 transactions match ethers', () => checkType(2));

test('personal_sign messages verify with ethers', () => {
  assert.ok(data.messages.length >= 200, `expected >= 200 messages, got ${data.messages.length}`);
  const failures = [];
  let utf8 = 0;
  for (const [i, m] of data.messages.entries()) {
    let message;
    if (m.kind === 'utf8') {
      utf8++;
      message = m.message_utf8;
      if (hexlify(toUtf8Bytes(message)) !== m.message_hex) failures.push(`#${i}: utf-8 bytes differ`);
    } else {
      message = getBytes(m.message_hex);
    }
    try {
      if (hashMessage(message) !== m.hash) failures.push(`#${i}: hash ${hashMessage(message)} != ${m.hash}`);
      const signer = verifyMessage(message, m.signature);
      if (signer !== m.address) failures.push(`#${i}: ethers recovered ${signer}, sigil says ${m.address}`);
      const sBytes = BigInt('0x' + m.signature.slice(66, 130));
      if (sBytes > HALF_N) failures.push(`#${i}: high s`);
      const v = parseInt(m.signature.slice(130), 16);
      if (v !== 27 && v !== 28) failures.push(`#${i}: v = ${v}`);
    } catch (err) {
      failures.push(`#${i}: ethers threw ${err.shortMessage ?? err.message}`);
    }
  }
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} messages differ`);
  assert.ok(utf8 >= 100, 'too few utf-8 messages');
});
