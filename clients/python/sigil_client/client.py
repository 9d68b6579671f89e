"""SigilClient: a small, standard-library-only client for the Sigil daemon.

JSON-RPC (``POST /rpc``) for signing and dry runs, REST (``/v1/...``) for
approvals and attestation. Every refusal raises a typed exception from
:mod:`sigil_client.errors` carrying the daemon's structured ``data``.

The client is synchronous and thread-safe (one HTTP connection per call).
Use :class:`sigil_client.signer.RemoteSigner` for an ``async`` interface.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import socket
import ssl
import threading
import time
import urllib.parse
from typing import Any, Dict, Iterable, List, Optional, Union

from .amounts import parse_amount
from .errors import (SigilApprovalFailed, SigilError, SigilInvalidParams, SigilUnavailable, error_from_http,
                     error_from_rpc)

__all__ = ["SigilClient"]

# Transaction fields that are JSON-RPC quantities, and whether a unit is allowed.
_QUANTITY_FIELDS = {
    "value": True,
    "gas": False,
    "gasPrice": True,
    "maxFeePerGas": True,
    "maxPriorityFeePerGas": True,
    "nonce": False,
    "chainId": False,
    "type": False,
}
# web3.py / snake_case spellings accepted on input.
_ALIASES = {
    "gas_limit": "gas",
    "gasLimit": "gas",
    "gas_price": "gasPrice",
    "max_fee_per_gas": "maxFeePerGas",
    "max_priority_fee_per_gas": "maxPriorityFeePerGas",
    "chain_id": "chainId",
    "access_list": "accessList",
    "input": "data",
}

_MAX_RESPONSE_BYTES = 16 << 20


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def normalize_transaction(tx: Dict[str, Any]) -> Dict[str, Any]:
    """A transaction dict as Sigil's ``eth_signTransaction`` takes it: camelCase
    keys, quantities as 0x-hex strings (ints, decimal strings and ``"0.1 ether"``
    accepted), ``data`` as 0x-hex (bytes accepted). Floats are refused."""
    out: Dict[str, Any] = {}
    for key, value in tx.items():
        key = _ALIASES.get(key, key)
        if value is None:
            continue
        if key in _QUANTITY_FIELDS:
            out[key] = hex(parse_amount(value, allow_units=_QUANTITY_FIELDS[key]))
        elif key == "data":
            if isinstance(value, (bytes, bytearray)):
                value = "0x" + bytes(value).hex()
            elif isinstance(value, str) and not value.startswith("0x"):
                value = "0x" + value
            out[key] = value
        elif key in ("from", "to") and isinstance(value, (bytes, bytearray)):
            out[key] = "0x" + bytes(value).hex()
        else:
            out[key] = value
    return out


class SigilClient:
    """Client for one Sigil daemon and one bearer token.

    ``url`` is ``http://host:port``, ``https://host:port`` or ``unix:/path/to.sock``
    (``SIGIL_URL`` when omitted); ``token`` is the bearer token (``SIGIL_TOKEN``
    when omitted).
    """

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, timeout: float = 30.0,
                 ssl_context: Optional[ssl.SSLContext] = None):
        url = url or os.environ.get("SIGIL_URL") or ""
        token = token if token is not None else os.environ.get("SIGIL_TOKEN", "")
        if not url:
            raise ValueError("no Sigil URL: pass url= or set SIGIL_URL")
        self.url = url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._ids = itertools.count(1)
        self._ids_lock = threading.Lock()
        if self.url.startswith("unix:"):
            self._unix_path: Optional[str] = self.url[len("unix:"):]
            self._base_path = ""
        else:
            parsed = urllib.parse.urlsplit(self.url)
            if parsed.scheme not in ("http", "https") or not parsed.hostname:
                raise ValueError(f"unsupported Sigil URL {url!r}: use http://, https:// or unix:PATH")
            self._unix_path = None
            self._scheme = parsed.scheme
            self._host = parsed.hostname
            self._port = parsed.port
            self._base_path = parsed.path.rstrip("/")

    def __repr__(self) -> str:  # never shows the token
        return f"SigilClient(url={self.url!r})"

    # ------------------------------------------------------------------ transport
    def _connection(self) -> http.client.HTTPConnection:
        if self._unix_path is not None:
            return _UnixHTTPConnection(self._unix_path, self.timeout)
        if self._scheme == "https":
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout,
                                               context=self._ssl_context)
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)

    def _http(self, method: str, path: str, body: Any = None) -> "tuple[int, Any]":
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        conn = self._connection()
        try:
            conn.request(method, self._base_path + path, body=payload, headers=headers)
            response = conn.getresponse()
            raw = response.read(_MAX_RESPONSE_BYTES + 1)
            status = response.status
        except (OSError, http.client.HTTPException) as e:
            raise SigilUnavailable(f"cannot reach Sigil at {self.url}: {e}") from e
        finally:
            conn.close()
        if len(raw) > _MAX_RESPONSE_BYTES:
            raise SigilUnavailable("Sigil's response is too large")
        text = raw.decode("utf-8", errors="replace")
        try:
            parsed = json.loads(text) if text.strip() else None
        except ValueError:
            parsed = text
        return status, parsed

    def call(self, method: str, params: Optional[Iterable[Any]] = None) -> Any:
        """One JSON-RPC call; returns ``result`` or raises the typed error."""
        with self._ids_lock:
            request_id = next(self._ids)
        status, body = self._http("POST", "/rpc", {"jsonrpc": "2.0", "id": request_id, "method": method,
                                                  "params": list(params or [])})
        if isinstance(body, dict) and isinstance(body.get("error"), dict) and isinstance(body["error"].get("code"), int):
            raise error_from_rpc(body["error"], http_status=status)
        if status >= 400 or not isinstance(body, dict) or "result" not in body:
            raise error_from_http(status, body)
        return body["result"]

    def rest(self, method: str, path: str, body: Any = None) -> Any:
        """One REST call under ``/v1``; returns the decoded JSON body."""
        status, parsed = self._http(method, path, body)
        if status >= 400:
            raise error_from_http(status, parsed)
        return parsed

    # ------------------------------------------------------------------ accounts
    def accounts(self) -> List[str]:
        """The caller's Ethereum addresses (``eth_accounts``)."""
        return list(self.call("eth_accounts"))

    def chain_id(self) -> int:
        return int(self.call("eth_chainId"), 16)

    def list_keys(self) -> List[Dict[str, Any]]:
        """Every key the caller may use: name, type, address/public_key, status, version."""
        return list(self.call("sigil_listKeys"))

    def default_address(self) -> str:
        accounts = self.accounts()
        if len(accounts) != 1:
            raise SigilInvalidParams(
                f"this token has {len(accounts)} Ethereum accounts; pass the address to use"
                + (f" (one of {', '.join(accounts)})" if accounts else ""))
        return accounts[0]

    # ------------------------------------------------------------------ signing
    def sign_transaction(self, tx: Dict[str, Any]) -> str:
        """Sign an Ethereum transaction; returns the raw signed transaction (0x-hex).

        ``tx`` uses JSON-RPC names (``from``, ``to``, ``value``, ``data``, ``gas``,
        ``nonce``, ``chainId``, ``maxFeePerGas``, ``maxPriorityFeePerGas`` or
        ``gasPrice``); web3.py-style dicts with int values work as they are.
        ``from`` defaults to the token's only account.
        """
        body = normalize_transaction(tx)
        if "from" not in body:
            body["from"] = self.default_address()
        result = self.call("eth_signTransaction", [body])
        if isinstance(result, dict):
            result = result.get("raw") or result.get("rawTransaction")
        return result

    def send_transaction(self, tx: Dict[str, Any]) -> str:
        """Sign and broadcast through Sigil's upstream node (nonce, gas and fees
        filled in when absent); returns the transaction hash."""
        body = normalize_transaction(tx)
        if "from" not in body:
            body["from"] = self.default_address()
        return self.call("eth_sendTransaction", [body])

    def sign_message(self, message: Union[str, bytes], address: Optional[str] = None) -> str:
        """EIP-191 ``personal_sign``. ``str`` is signed as UTF-8 text (even if it
        looks like hex); pass ``bytes`` to sign raw bytes. Returns the 65-byte
        signature as 0x-hex."""
        data = message.encode("utf-8") if isinstance(message, str) else bytes(message)
        return self.call("personal_sign", ["0x" + data.hex(), address or self.default_address()])

    def sign_typed_data(self, typed_data: Union[Dict[str, Any], str], address: Optional[str] = None) -> str:
        """EIP-712 ``eth_signTypedData_v4``; ``typed_data`` as a dict or JSON text."""
        return self.call("eth_signTypedData_v4", [address or self.default_address(), typed_data])

    def sign_nostr_event(self, key: str, kind: int, content: str, tags: Optional[List[List[str]]] = None,
                         created_at: Optional[int] = None) -> Dict[str, Any]:
        """NIP-01: returns the complete signed event (id, pubkey, sig filled in)."""
        event = {"created_at": int(time.time()) if created_at is None else int(created_at), "kind": int(kind),
                 "tags": tags or [], "content": content}
        return self.call("sigil_signNostrEvent", [key, event])

    def sign_solana_message(self, key: str, message: Union[bytes, str]) -> str:
        """Sign a Solana transaction message (bytes, or its base64); returns the
        base58 signature."""
        import base64

        b64 = base64.b64encode(bytes(message)).decode("ascii") if isinstance(message, (bytes, bytearray)) else message
        return self.call("sigil_signSolanaMessage", [key, b64])

    # ------------------------------------------------------------------ policy
    def explain(self, method: str, *params: Any) -> Dict[str, Any]:
        """Dry run: what the policy would decide for ``method(*params)``; signs
        nothing. For Ethereum transactions the dict is normalized as for
        :meth:`sign_transaction`."""
        if method in ("eth_signTransaction", "eth_sendTransaction") and params and isinstance(params[0], dict):
            tx = normalize_transaction(params[0])
            if "from" not in tx:
                tx["from"] = self.default_address()
            params = (tx,) + tuple(params[1:])
        return self.call("sigil_explain", [method, *params])

    def get_policy(self) -> Dict[str, Any]:
        return self.call("sigil_getPolicy")

    def get_budget(self) -> Dict[str, Any]:
        return self.call("sigil_getBudget")

    # ------------------------------------------------------------------ approvals
    def approval_status(self, approval_id: str) -> Dict[str, Any]:
        """``{approval_id, state, quorum, approvals, expires_at[, result]}``; the
        requester's first poll after approval carries ``result`` (once; the
        daemon reports that poll with state ``consumed``)."""
        return self.call("sigil_approvalStatus", [approval_id])

    def wait_for_approval(self, approval_id: str, timeout: float = 3600.0, interval: float = 2.0) -> Any:
        """Polls until the held request is approved and returns its result (the
        raw transaction, signature or tx hash). Raises
        :class:`SigilApprovalFailed` if it is rejected or expires, and
        ``TimeoutError`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.approval_status(approval_id)
            state = status.get("state")
            # The collecting poll carries the result; the daemon may already
            # report it as "consumed" (collecting spends the approval).
            if state in ("approved", "consumed") and status.get("result") is not None:
                return status["result"]
            if isinstance(status.get("refused"), dict):
                raise SigilApprovalFailed(f"approval {approval_id} was approved but signing was refused: "
                                          f"{status['refused'].get('reason', '')}", state="refused",
                                          data=status["refused"])
            if state in ("rejected", "expired", "consumed"):
                raise SigilApprovalFailed(f"approval {approval_id} is {state}", state=state, data=status)
            if time.monotonic() >= deadline:
                raise TimeoutError(f"approval {approval_id} still {state} after {timeout} s")
            time.sleep(interval)

    def approvals(self) -> List[Dict[str, Any]]:
        """Pending approvals (``GET /v1/approvals``; approver/admin tokens)."""
        body = self.rest("GET", "/v1/approvals")
        if isinstance(body, dict):
            for key in ("approvals", "pending", "items"):
                if isinstance(body.get(key), list):
                    return body[key]
        return body if isinstance(body, list) else []

    def approve(self, approval_id: str, totp: Optional[str] = None) -> Dict[str, Any]:
        """Approve a held request as this token's principal, with its current TOTP code."""
        body: Dict[str, Any] = {}
        if totp is not None:
            body["totp"] = str(totp)
        return self.rest("POST", f"/v1/approvals/{urllib.parse.quote(approval_id, safe='')}/approve", body)

    def reject(self, approval_id: str, reason: Optional[str] = None) -> Dict[str, Any]:
        body: Dict[str, Any] = {}
        if reason:
            body["reason"] = reason
        return self.rest("POST", f"/v1/approvals/{urllib.parse.quote(approval_id, safe='')}/reject", body)

    # ------------------------------------------------------------------ attestation
    def attest(self, nonce: Union[bytes, str, None] = None) -> Dict[str, Any]:
        """``POST /v1/attest {"nonce": hex}``: a signed attestation report bound to
        ``nonce`` (16 random bytes when omitted; read it back from the report's
        ``nonce`` or keep your own). Verify with
        :func:`sigil_client.attestation.verify_report`."""
        if nonce is None:
            nonce = os.urandom(16)
        nonce_hex = nonce.hex() if isinstance(nonce, (bytes, bytearray)) else str(nonce).lower().removeprefix("0x")
        bytes.fromhex(nonce_hex)  # ValueError early for a malformed nonce
        return self.rest("POST", "/v1/attest", {"nonce": nonce_hex})

    def verify_attestation(self, nonce: Union[bytes, str, None] = None, **kwargs: Any):
        """Fetches a report for a fresh (or given) nonce and verifies it; see
        :func:`sigil_client.attestation.verify_report` for ``kwargs`` and what
        is and is not checked."""
        from .attestation import verify_report

        if nonce is None:
            nonce = os.urandom(16)
        report = self.attest(nonce)
        return verify_report(report, nonce, **kwargs)
