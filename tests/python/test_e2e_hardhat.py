"""End-to-end: sigil_client and RemoteSigner against a real `sigil server --dev`
whose transactions a hardhat node mines.

Skipped unless SIGIL_E2E=1. Normally run by the node driver, which starts
hardhat and the daemon, sets up keys, policy, tokens and TOTP, and then runs
this file with the environment below:

    node --test tests/python/e2e_hardhat.test.mjs      (SIGIL_BIN=build/sigil)

Environment:
    SIGIL_URL, SIGIL_TOKEN   the daemon and an agent token for key "py" (agent "py-bot")
    HARDHAT_URL              the hardhat node (chain id 31337)
    SIGIL_APPROVERS          JSON [{"token": …, "otpauth_uri": …}, …] (two approvers with TOTP)
    SIGIL_ADMIN_TOKEN        optional: a token allowed to fetch attestation reports (admin or auditor)
    SIGIL_BIN                optional: the sigil binary, for attestation verification
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import struct
import time
import urllib.parse
import urllib.request

import pytest

from sigil_client import RemoteSigner, SigilApprovalRequired, SigilClient, SigilDenied, SigilUnavailable

pytestmark = pytest.mark.skipif(os.environ.get("SIGIL_E2E") != "1",
                                reason="end-to-end: set SIGIL_E2E=1 (run tests/python/e2e_hardhat.test.mjs)")

PAYEE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BLOCKED = "0x000000000000000000000000000000000000dEaD"


def hardhat(method, params=None):
    req = urllib.request.Request(os.environ["HARDHAT_URL"], method="POST",
                                 headers={"Content-Type": "application/json"},
                                 data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                                                  "params": params or []}).encode())
    with urllib.request.urlopen(req, timeout=30) as r:
        body = json.load(r)
    if "error" in body:
        raise RuntimeError(f"{method}: {body['error']}")
    return body["result"]


def receipt(tx_hash):
    for _ in range(100):
        r = hardhat("eth_getTransactionReceipt", [tx_hash])
        if r:
            return r
        time.sleep(0.1)
    raise AssertionError(f"no receipt for {tx_hash}")


def totp(otpauth_uri, at=None):
    secret = urllib.parse.parse_qs(urllib.parse.urlsplit(otpauth_uri).query)["secret"][0]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    counter = struct.pack(">Q", int((time.time() if at is None else at) // 30))
    h = hmac.new(key, counter, hashlib.sha1).digest()
    o = h[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1_000_000)


@pytest.fixture(scope="module")
def client():
    return SigilClient(os.environ["SIGIL_URL"], os.environ["SIGIL_TOKEN"])


@pytest.fixture(scope="module")
def me(client):
    return client.default_address()


def fee_fields(address):
    base = int(hardhat("eth_getBlockByNumber", ["latest", False])["baseFeePerGas"], 16)
    return {"chainId": 31337, "nonce": int(hardhat("eth_getTransactionCount", [address, "pending"]), 16),
            "gas": 21000, "maxPriorityFeePerGas": 10**9, "maxFeePerGas": 2 * base + 10**9}


def test_accounts_and_chain(client, me):
    assert client.accounts() == [me]
    assert client.chain_id() == 31337


def test_client_signs_a_transaction_hardhat_mines(client, me):
    raw = client.sign_transaction({"from": me, "to": PAYEE, "value": "0.01 ether", **fee_fields(me)})
    assert raw.startswith("0x02")
    r = receipt(hardhat("eth_sendRawTransaction", [raw]))
    assert r["status"] == "0x1"
    assert r["from"].lower() == me.lower()


def test_remote_signer_signs_a_transaction_hardhat_mines(client, me):
    signer = RemoteSigner(client)

    async def go():
        assert (await signer.get_address()).lower() == me.lower()
        # web3.py-style dict: ints everywhere, gasLimit spelling.
        tx = {"to": PAYEE, "value": 12345, **fee_fields(me)}
        tx["gasLimit"] = tx.pop("gas")
        return await signer.sign_transaction(tx, os.environ["HARDHAT_URL"])

    raw = asyncio.run(go())
    r = receipt(hardhat("eth_sendRawTransaction", [raw]))
    assert r["status"] == "0x1" and r["from"].lower() == me.lower()


def test_send_transaction_through_the_upstream(client, me):
    r = receipt(client.send_transaction({"to": PAYEE, "value": "0.02 ether"}))
    assert r["status"] == "0x1" and r["from"].lower() == me.lower()


def test_sign_message(client, me):
    sig = client.sign_message("hello from python", me)
    assert sig.startswith("0x") and len(sig) == 132


def test_explain_and_denial(client, me):
    out = client.explain("eth_sendTransaction", {"from": me, "to": PAYEE, "value": "0.1 ether"})
    assert out["decision"] == "allow" and out["rule"] == "py-small"
    with pytest.raises(SigilDenied) as e:
        client.send_transaction({"from": me, "to": BLOCKED, "value": "0.01 ether"})
    assert e.value.rule == "no-blocked"
    assert e.value.reason == "recipient is blocked"
    assert e.value.code == -32003


def test_approval_by_two_approvers_then_the_requester_collects(client, me):
    with pytest.raises(SigilApprovalRequired) as held:
        client.sign_transaction({"from": me, "to": PAYEE, "value": "1 ether", **fee_fields(me)})
    approval_id = held.value.approval_id
    assert approval_id and approval_id.startswith("ap_")
    assert held.value.quorum == 2
    assert client.approval_status(approval_id)["state"] == "pending"
    approvers = json.loads(os.environ["SIGIL_APPROVERS"])
    pending = SigilClient(os.environ["SIGIL_URL"], approvers[0]["token"]).approvals()
    assert any(a.get("approval_id", a.get("id")) == approval_id for a in pending)
    for approver in approvers:
        SigilClient(os.environ["SIGIL_URL"], approver["token"]).approve(approval_id, totp(approver["otpauth_uri"]))
    raw = client.wait_for_approval(approval_id, timeout=30, interval=0.2)
    r = receipt(hardhat("eth_sendRawTransaction", [raw]))
    assert r["status"] == "0x1"
    assert client.approval_status(approval_id)["state"] == "consumed"


@pytest.mark.skipif(not (os.environ.get("SIGIL_BIN") and os.environ.get("SIGIL_ADMIN_TOKEN")),
                    reason="needs SIGIL_BIN (for `sigil attest verify`) and SIGIL_ADMIN_TOKEN (agents may not attest)")
def test_attestation_verified_by_the_cli():
    auditor = SigilClient(os.environ["SIGIL_URL"], os.environ["SIGIL_ADMIN_TOKEN"])
    try:
        result = auditor.verify_attestation(sigil_bin=os.environ["SIGIL_BIN"], allow_debug=True)  # dev server
    except SigilUnavailable as e:
        if e.http_status == 501:
            pytest.skip(f"the daemon does not offer attestation in this build: {e.message}")
        raise
    assert result.method == "sigil-cli"
    assert result.valid, result.errors
