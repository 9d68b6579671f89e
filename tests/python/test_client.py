"""Unit tests for clients/python/sigil_client against an in-process fake daemon.

Run: python3 -m pytest tests/python  (stdlib + pytest only)
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import tempfile

import pytest

from fake_sigil import FakeSigil
from sigil_client import (ApprovalStatusTool, ExplainTool, RemoteSigner, SendTransactionTool, SigilApprovalFailed,
                          SigilApprovalRequired, SigilAuthError, SigilClient, SigilDenied, SigilError,
                          SigilInvalidParams, SigilLockdown, SigilRateLimited, SigilUnavailable, SignTransactionTool,
                          describe_refusal, format_wei, parse_amount, sigil_tools, verify_report)

ALICE = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
BOB = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
TOKEN = "sgl_" + "0" * 80

DENIED_DATA = {"decision": "deny", "rule": "small-payments", "reason": "24h budget exceeded",
               "budget": {"window": "24h", "limit": "2000000000000000000", "spent": "1900000000000000000",
                          "requested": "500000000000000000"}, "audit_seq": 1042}


@pytest.fixture
def sigil():
    with FakeSigil() as fake:
        yield fake


@pytest.fixture
def client(sigil):
    return SigilClient(sigil.url, TOKEN, timeout=5)


# ---------------------------------------------------------------- amounts

def test_parse_amount_is_exact_and_refuses_floats():
    assert parse_amount("0.05 ether") == 50_000_000_000_000_000
    assert parse_amount("30 gwei") == 30_000_000_000
    assert parse_amount("0x10") == 16
    assert parse_amount("123") == 123
    assert parse_amount(7) == 7
    assert parse_amount("1.000000000000000001 ether") == 10**18 + 1
    for bad in (0.05, -1, "0.1 wei", "1 bitcoin", "lots", True, 2**256, "1e18"):
        with pytest.raises(ValueError):
            parse_amount(bad)
    assert format_wei(10**17) == "0.1 ether"
    assert format_wei(30 * 10**9) == "30 gwei"
    assert format_wei(12) == "12 wei"


# ---------------------------------------------------------------- JSON-RPC shapes

def test_accounts_sends_bearer_token_and_jsonrpc(sigil, client):
    sigil.result("eth_accounts", [ALICE])
    assert client.accounts() == [ALICE]
    req = sigil.requests[-1]
    assert req["method"] == "POST" and req["path"] == "/rpc"
    assert req["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert req["headers"]["Content-Type"] == "application/json"
    assert req["body"]["jsonrpc"] == "2.0" and req["body"]["method"] == "eth_accounts"
    assert req["body"]["params"] == []
    assert TOKEN not in repr(client)


def test_sign_transaction_normalizes_web3_style_dicts(sigil, client):
    sigil.result("eth_accounts", [ALICE])
    sigil.result("eth_signTransaction", "0x02f86c")
    raw = client.sign_transaction({"to": BOB, "value": "0.05 ether", "chainId": 31337, "nonce": 0, "gasLimit": 21000,
                                   "maxFeePerGas": 30 * 10**9, "max_priority_fee_per_gas": "1 gwei",
                                   "data": b"\x12\x34"})
    assert raw == "0x02f86c"
    (params,) = sigil.rpc_calls("eth_signTransaction")
    assert params == [{"from": ALICE, "to": BOB, "value": "0xb1a2bc2ec50000", "chainId": "0x7a69", "nonce": "0x0",
                       "gas": "0x5208", "maxFeePerGas": "0x6fc23ac00", "maxPriorityFeePerGas": "0x3b9aca00",
                       "data": "0x1234"}]


def test_sign_transaction_refuses_floats_before_sending(sigil, client):
    with pytest.raises(ValueError):
        client.sign_transaction({"from": ALICE, "to": BOB, "value": 0.05})
    assert sigil.requests == []


def test_several_accounts_need_an_explicit_from(sigil, client):
    sigil.result("eth_accounts", [ALICE, BOB])
    with pytest.raises(SigilInvalidParams) as e:
        client.send_transaction({"to": BOB, "value": 1})
    assert ALICE in str(e.value) and BOB in str(e.value)
    assert sigil.rpc_calls("eth_sendTransaction") == []


def test_messages_typed_data_nostr_solana(sigil, client):
    sigil.result("personal_sign", "0xsig")
    assert client.sign_message("0xdead", ALICE) == "0xsig"
    assert sigil.rpc_calls("personal_sign")[-1] == ["0x307864656164", ALICE]  # text stays text
    client.sign_message(b"\xde\xad", ALICE)
    assert sigil.rpc_calls("personal_sign")[-1] == ["0xdead", ALICE]

    sigil.result("eth_signTypedData_v4", "0xsig712")
    doc = {"types": {}, "primaryType": "Mail", "domain": {}, "message": {}}
    assert client.sign_typed_data(doc, BOB) == "0xsig712"
    assert sigil.rpc_calls("eth_signTypedData_v4")[-1] == [BOB, doc]

    sigil.rpc["sigil_signNostrEvent"] = lambda params: ("result", dict(params[1], id="i", pubkey="p", sig="s"))
    ev = client.sign_nostr_event("notes", 1, "gm", [["t", "sigil"]], created_at=1700000000)
    assert ev["sig"] == "s"
    assert sigil.rpc_calls("sigil_signNostrEvent")[-1] == ["notes", {"created_at": 1700000000, "kind": 1,
                                                                    "tags": [["t", "sigil"]], "content": "gm"}]
    sigil.result("sigil_signSolanaMessage", "5Sig")
    assert client.sign_solana_message("sol", b"\x01\x02") == "5Sig"
    assert sigil.rpc_calls("sigil_signSolanaMessage")[-1] == ["sol", "AQI="]


def test_explain_normalizes_the_transaction(sigil, client):
    sigil.result("eth_accounts", [ALICE])
    sigil.result("sigil_explain", {"decision": "allow", "rule": "small-payments", "reason": "ok", "budgets": []})
    out = client.explain("eth_sendTransaction", {"to": BOB, "value": "0.1 ether"})
    assert out["decision"] == "allow"
    assert sigil.rpc_calls("sigil_explain")[-1] == ["eth_sendTransaction",
                                                    {"to": BOB, "value": "0x16345785d8a0000", "from": ALICE}]
    client.explain("personal_sign", "0x68", ALICE)
    assert sigil.rpc_calls("sigil_explain")[-1] == ["personal_sign", "0x68", ALICE]


# ---------------------------------------------------------------- error mapping

@pytest.mark.parametrize("code,cls", [(-32001, SigilAuthError), (-32002, SigilApprovalRequired), (-32003, SigilDenied),
                                      (-32004, SigilLockdown), (-32005, SigilRateLimited),
                                      (-32006, SigilUnavailable), (-32602, SigilInvalidParams),
                                      (-32099, SigilError)])
def test_each_error_code_maps_to_its_exception(sigil, client, code, cls):
    sigil.error("eth_signTransaction", code, "refused", {"rule": "r", "reason": "why", "audit_seq": 7})
    with pytest.raises(cls) as e:
        client.sign_transaction({"from": ALICE, "to": BOB})
    assert type(e.value) is cls
    assert e.value.code == code
    assert e.value.message == "refused"
    assert e.value.data == {"rule": "r", "reason": "why", "audit_seq": 7}
    assert e.value.rule == "r" and e.value.reason == "why" and e.value.audit_seq == 7


def test_refusal_specific_attributes(sigil, client):
    sigil.error("eth_sendTransaction", -32003, "denied", DENIED_DATA)
    with pytest.raises(SigilDenied) as denied:
        client.send_transaction({"from": ALICE, "to": BOB, "value": "0.5 ether"})
    assert denied.value.budget["window"] == "24h"
    assert describe_refusal(denied.value).startswith(
        "Denied by rule small-payments: 24h budget exceeded. At most 0.1 ether remains in the 24h window")

    sigil.error("eth_sendTransaction", -32002, "held", {"approval_id": "ap_0123456789abcdef", "quorum": 2,
                                                        "expires_at": 1767229200, "approvals": 0})
    with pytest.raises(SigilApprovalRequired) as held:
        client.send_transaction({"from": ALICE, "to": BOB, "value": "2 ether"})
    assert held.value.approval_id == "ap_0123456789abcdef"
    assert held.value.quorum == 2 and held.value.expires_at == 1767229200
    assert "approval_status" in describe_refusal(held.value)

    sigil.error("eth_sendTransaction", -32005, "slow down", {"retry_after_ms": 1500})
    with pytest.raises(SigilRateLimited) as limited:
        client.send_transaction({"from": ALICE, "to": BOB})
    assert limited.value.retry_after_ms == 1500

    sigil.error("eth_sendTransaction", -32004, "lockdown", {"reason": "incident 42"})
    with pytest.raises(SigilLockdown) as locked:
        client.send_transaction({"from": ALICE, "to": BOB})
    assert "incident 42" in describe_refusal(locked.value)


def test_http_level_failures(sigil, client):
    sigil.rpc["eth_accounts"] = ("http", (401, {"error": {"code": "unauthenticated", "message": "invalid token"}}))
    with pytest.raises(SigilAuthError) as e:
        client.accounts()
    assert e.value.http_status == 401 and e.value.message == "invalid token"
    sigil.rpc["eth_accounts"] = ("http", (401, {"jsonrpc": "2.0", "id": 1,
                                                "error": {"code": -32001, "message": "token revoked"}}))
    with pytest.raises(SigilAuthError) as e2:
        client.accounts()
    assert e2.value.code == -32001
    sigil.rpc["eth_accounts"] = ("http", (503, "overloaded"))
    with pytest.raises(SigilUnavailable):
        client.accounts()
    sigil.rpc["eth_accounts"] = ("http", (200, "not json"))
    with pytest.raises(SigilError):
        client.accounts()


def test_unreachable_daemon_is_unavailable():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(SigilUnavailable) as e:
        SigilClient(f"http://127.0.0.1:{port}", TOKEN, timeout=2).accounts()
    assert "cannot reach Sigil" in str(e.value)


def test_bad_urls():
    with pytest.raises(ValueError):
        SigilClient("ftp://x", TOKEN)
    old = os.environ.pop("SIGIL_URL", None)
    try:
        with pytest.raises(ValueError):
            SigilClient(None, TOKEN)
    finally:
        if old is not None:
            os.environ["SIGIL_URL"] = old


def test_unix_socket_url():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "sigil.sock")
        with FakeSigil(unix_path=path) as fake:
            fake.result("eth_chainId", "0x7a69")
            assert SigilClient(fake.url, TOKEN, timeout=5).chain_id() == 31337


# ---------------------------------------------------------------- approvals (REST)

def test_approvals_approve_reject(sigil, client):
    sigil.rest["GET /v1/approvals"] = (200, {"approvals": [{"approval_id": "ap_1", "state": "pending"}]})
    assert client.approvals() == [{"approval_id": "ap_1", "state": "pending"}]
    sigil.rest["POST /v1/approvals/ap_1/approve"] = lambda body: (200, {"approval_id": "ap_1", "state": "pending",
                                                                        "approvals": 1, "echo": body})
    out = client.approve("ap_1", totp="123456")
    assert out["echo"] == {"totp": "123456"}
    assert sigil.requests[-1]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    sigil.rest["POST /v1/approvals/ap_1/reject"] = lambda body: (200, {"state": "rejected", "echo": body})
    assert client.reject("ap_1", "too large")["echo"] == {"reason": "too large"}
    sigil.rest["POST /v1/approvals/ap_2/approve"] = (403, {"error": {"code": "forbidden",
                                                                    "message": "wrong TOTP code"}})
    with pytest.raises(SigilAuthError) as e:
        client.approve("ap_2", totp="000000")
    assert e.value.message == "wrong TOTP code"
    with pytest.raises(SigilError) as missing:
        client.approve("ap_3")
    assert missing.value.http_status == 404


def test_wait_for_approval(sigil, client):
    states = iter([{"state": "pending", "approvals": 0}, {"state": "pending", "approvals": 1},
                   {"state": "consumed", "approvals": 2, "result": "0x02f8raw"}])
    sigil.rpc["sigil_approvalStatus"] = lambda params: ("result", dict(next(states), approval_id=params[0]))
    assert client.wait_for_approval("ap_1", timeout=10, interval=0.01) == "0x02f8raw"
    sigil.result("sigil_approvalStatus", {"approval_id": "ap_1", "state": "rejected"})
    with pytest.raises(SigilApprovalFailed) as e:
        client.wait_for_approval("ap_1", timeout=10, interval=0.01)
    assert e.value.state == "rejected"
    sigil.result("sigil_approvalStatus", {"approval_id": "ap_1", "state": "consumed"})
    with pytest.raises(SigilApprovalFailed) as gone:
        client.wait_for_approval("ap_1", timeout=10, interval=0.01)
    assert gone.value.state == "consumed"
    sigil.result("sigil_approvalStatus", {"approval_id": "ap_1", "state": "approved",
                                          "refused": {"rule": "r", "reason": "lockdown in force"}})
    with pytest.raises(SigilApprovalFailed) as refused:
        client.wait_for_approval("ap_1", timeout=10, interval=0.01)
    assert refused.value.state == "refused"
    sigil.result("sigil_approvalStatus", {"approval_id": "ap_1", "state": "pending"})
    with pytest.raises(TimeoutError):
        client.wait_for_approval("ap_1", timeout=0.05, interval=0.01)


# ---------------------------------------------------------------- attestation

REPORT = {"report": {"nonce": "00112233445566778899aabbccddeeff", "measurement": "ab" * 32, "dev": False},
          "signature": "3045..."}


def test_attest_sends_the_nonce(sigil, client):
    sigil.rest["POST /v1/attest"] = lambda body: (200, {"report": {"nonce": body["nonce"]}, "signature": "s"})
    report = client.attest(bytes.fromhex("00112233445566778899aabbccddeeff"))
    assert sigil.requests[-1]["body"] == {"nonce": "00112233445566778899aabbccddeeff"}
    assert report["report"]["nonce"] == "00112233445566778899aabbccddeeff"
    with pytest.raises(ValueError):
        client.attest("not hex")


def test_structural_verification_without_the_cli(monkeypatch):
    monkeypatch.delenv("SIGIL_BIN", raising=False)
    monkeypatch.setenv("PATH", "")
    nonce = bytes.fromhex("00112233445566778899aabbccddeeff")
    ok = verify_report(REPORT, nonce)
    assert ok.valid and ok.method == "structural" and not ok.signature_verified and ok.warnings
    assert verify_report(REPORT, "0x00112233445566778899AABBCCDDEEFF").valid
    assert not verify_report(REPORT, b"\x00" * 16).valid                      # stale / replayed
    assert not verify_report({"report": {"nonce": nonce.hex()}}, nonce).valid  # unsigned
    dev = {"report": {"nonce": nonce.hex(), "mode": "dev"}, "signature": "s"}
    assert not verify_report(dev, nonce).valid
    assert verify_report(dev, nonce, allow_debug=True).valid
    assert not verify_report(REPORT, nonce, expected_measurement="cd" * 32).valid
    assert verify_report(REPORT, nonce, expected_measurement="AB" * 32).valid
    strict = verify_report(REPORT, nonce, require_cli=True)
    assert not strict.valid and strict.method == "none"
    assert not verify_report("nope", nonce).valid


def test_verification_through_the_sigil_cli(tmp_path):
    log = tmp_path / "args.json"
    fake = tmp_path / "sigil"
    fake.write_text("#!/usr/bin/env python3\n"
                    "import json, sys\n"
                    f"json.dump(sys.argv[1:] + [json.load(open(sys.argv[3]))['signature']], open({str(log)!r}, 'w'))\n"
                    "ok = sys.argv[sys.argv.index('--nonce') + 1] == '00112233445566778899aabbccddeeff'\n"
                    "print(json.dumps({'valid': ok, 'errors': [] if ok else ['nonce mismatch']}))\n"
                    "sys.exit(0 if ok else 1)\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    nonce = "00112233445566778899aabbccddeeff"
    res = verify_report(REPORT, nonce, sigil_bin=str(fake), expected_measurement="ab" * 32, allow_debug=True)
    assert res.valid and res.method == "sigil-cli" and res.signature_verified
    args = json.loads(log.read_text())
    assert args[0:2] == ["attest", "verify"]
    assert args[3:] == ["--nonce", nonce, "--json", "--expected-measurement", "ab" * 32, "--allow-debug", "3045..."]
    bad = verify_report(REPORT, "ff" * 16, sigil_bin=str(fake))
    assert not bad.valid and bad.errors == ["nonce mismatch"]


# ---------------------------------------------------------------- RemoteSigner

def test_remote_signer_has_the_evm_signer_shape(sigil, client):
    sigil.result("eth_accounts", [ALICE])
    sigil.result("eth_signTransaction", "0x02f8")
    sigil.result("personal_sign", "0xmsgsig")
    sigil.result("eth_signTypedData_v4", "0xtypedsig")
    signer = RemoteSigner(client)
    assert signer.signer_type == "sigil"

    async def go():
        assert await signer.get_address() == ALICE
        assert await signer.sign_transaction({"to": BOB, "value": 1, "chainId": 31337}, "http://ignored") == "0x02f8"
        assert await signer.sign_message("hi") == "0xmsgsig"
        assert await signer.sign_typed_data({"types": {}}) == "0xtypedsig"

    asyncio.run(go())
    assert sigil.rpc_calls("eth_signTransaction")[-1][0]["from"] == ALICE
    assert len(sigil.rpc_calls("eth_accounts")) == 1  # cached


def test_remote_signer_waits_for_approval_when_asked(sigil, client):
    sigil.error("eth_signTransaction", -32002, "held", {"approval_id": "ap_9", "quorum": 2})
    states = iter([{"state": "pending"}, {"state": "approved", "result": "0x02raw"}])
    sigil.rpc["sigil_approvalStatus"] = lambda params: ("result", next(states))
    tx = {"from": ALICE, "to": BOB, "value": 1}
    with pytest.raises(SigilApprovalRequired):
        asyncio.run(RemoteSigner(client, ALICE).sign_transaction(tx))
    waiting = RemoteSigner(client, ALICE, wait_for_approval=True, poll_interval=0.01)
    assert asyncio.run(waiting.sign_transaction(tx)) == "0x02raw"
    assert sigil.rpc_calls("sigil_approvalStatus")[-1] == ["ap_9"]


# ---------------------------------------------------------------- SpoonOS-style tools

def test_tools_have_the_base_tool_shape(client):
    tools = sigil_tools(client)
    assert [t.name for t in tools] == ["sign_transaction", "send_transaction", "sign_message", "explain",
                                       "approval_status"]
    for t in tools:
        p = t.to_param()
        assert p["type"] == "function" and p["function"]["name"] == t.name
        assert p["function"]["parameters"]["type"] == "object"
        assert len(t.description) > 30


def test_tool_success_and_refusal(sigil, client):
    sigil.result("eth_signTransaction", "0x02f8")
    ok = asyncio.run(SignTransactionTool(client).execute(**{"from": ALICE, "to": BOB, "value": "0.01 ether"}))
    assert ok.output == {"raw_transaction": "0x02f8"} and ok.error is None

    sigil.error("eth_sendTransaction", -32003, "denied", DENIED_DATA)
    refused = asyncio.run(SendTransactionTool(client)(**{"from": ALICE, "to": BOB, "value": "0.5 ether"}))
    assert refused.output is None
    assert refused.error.startswith("Denied by rule small-payments: 24h budget exceeded. At most 0.1 ether remains")
    assert json.loads(refused.system)["code"] == -32003
    assert str(refused).startswith("Error: Denied by rule")

    bad = asyncio.run(SendTransactionTool(client).execute(**{"from": ALICE, "to": BOB, "value": 0.5}))
    assert bad.error.startswith("Invalid arguments")


def test_explain_tool_reports_the_largest_allowed_value(sigil, client):
    sigil.result("sigil_explain", {"decision": "deny", "rule": "small-payments", "reason": "24h budget exceeded",
                                   "budgets": [{"measure": "value", "remaining": "100000000000000000"},
                                               {"measure": "count", "remaining": "3"},
                                               {"measure": "value", "remaining": "900000000000000000"}]})
    out = asyncio.run(ExplainTool(client).execute(tool="send_transaction",
                                                  arguments={"from": ALICE, "to": BOB, "value": "0.5 ether"}))
    assert out.output["largest_allowed_value"] == "100000000000000000"
    assert out.output["largest_allowed_value_text"] == "0.1 ether"
    wrong = asyncio.run(ExplainTool(client).execute(tool="sign_message", arguments={}))
    assert wrong.error is not None


def test_approval_status_tool(sigil, client):
    sigil.result("sigil_approvalStatus", {"approval_id": "ap_1", "state": "approved", "result": "0xraw"})
    out = asyncio.run(ApprovalStatusTool(client).execute(approval_id="ap_1"))
    assert out.output["result"] == "0xraw"
