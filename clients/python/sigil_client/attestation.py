"""Verifying a Sigil attestation report.

There are two levels, and the result says which one ran:

``method == "sigil-cli"``
    The daemon-independent verifier, ``sigil attest verify FILE --nonce HEX
    [--expected-measurement HEX] [--allow-debug] --json``, checked the report:
    its signature chain, the nonce, the measurement and debug/dev flags. Its
    ``{valid, errors[]}`` answer is returned as is. This is the real check.

``method == "structural"``
    No ``sigil`` binary was found (``sigil_bin=``, ``$SIGIL_BIN``, or ``sigil``
    on ``$PATH``). Only what Python's standard library can check without the
    report format's cryptography is checked: the report is a JSON object, it
    carries the nonce we sent (so it is fresh, not replayed), it carries a
    signature, and it does not declare a dev/debug build unless
    ``allow_debug``. ``signature_verified`` is ``False``: a structural pass
    does **not** prove the report came from genuine hardware or an unmodified
    binary. Pass ``require_cli=True`` to refuse this fallback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any, List, Optional, Union

__all__ = ["AttestationResult", "verify_report", "find_sigil_binary"]


@dataclass
class AttestationResult:
    valid: bool
    errors: List[str] = field(default_factory=list)
    method: str = "structural"           # "sigil-cli" or "structural"
    signature_verified: bool = False     # True only when the CLI verified it
    warnings: List[str] = field(default_factory=list)
    details: Any = None                  # the CLI's JSON answer, when it ran

    def __bool__(self) -> bool:
        return self.valid


def find_sigil_binary(sigil_bin: Optional[str] = None) -> Optional[str]:
    for candidate in (sigil_bin, os.environ.get("SIGIL_BIN"), shutil.which("sigil")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _nonce_hex(nonce: Union[bytes, str]) -> str:
    if isinstance(nonce, (bytes, bytearray)):
        return bytes(nonce).hex()
    text = str(nonce).strip().lower()
    return text[2:] if text.startswith("0x") else text


def _find(obj: Any, keys: "tuple[str, ...]", depth: int = 0) -> List[Any]:
    """Every value under one of ``keys`` anywhere in ``obj`` (bounded depth)."""
    found: List[Any] = []
    if depth > 8:
        return found
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in keys:
                found.append(v)
            found.extend(_find(v, keys, depth + 1))
    elif isinstance(obj, list):
        for v in obj:
            found.extend(_find(v, keys, depth + 1))
    return found


def _structural(report: Any, nonce: str, allow_debug: bool) -> AttestationResult:
    errors: List[str] = []
    if not isinstance(report, dict):
        return AttestationResult(False, ["the report is not a JSON object"])
    nonces = [str(n).lower().removeprefix("0x") for n in _find(report, ("nonce",)) if isinstance(n, str)]
    if not nonces:
        errors.append("the report carries no nonce")
    elif nonce not in nonces:
        errors.append("the report's nonce is not the one we sent (stale or replayed report)")
    if not _find(report, ("signature", "sig", "report_signature", "quote_signature")):
        errors.append("the report carries no signature")
    debug_flags = _find(report, ("dev", "dev_mode", "debug"))
    modes = [m for m in _find(report, ("mode",)) if isinstance(m, str)]
    if not allow_debug and (any(f is True for f in debug_flags) or any(m.lower() in ("dev", "debug") for m in modes)):
        errors.append("the report declares a dev/debug build (pass allow_debug=True to accept it)")
    return AttestationResult(
        valid=not errors, errors=errors, method="structural", signature_verified=False,
        warnings=["signature not verified: no sigil binary found; run `sigil attest verify` for the full check"])


def verify_report(report: Any, nonce: Union[bytes, str], sigil_bin: Optional[str] = None,
                  expected_measurement: Optional[str] = None, allow_debug: bool = False,
                  require_cli: bool = False, timeout: float = 60.0) -> AttestationResult:
    """Verify ``report`` (the JSON from ``POST /v1/attest``) against ``nonce``.

    See the module docstring for the two levels of checking.
    """
    nonce_hex = _nonce_hex(nonce)
    binary = find_sigil_binary(sigil_bin)
    if binary is None:
        if require_cli:
            return AttestationResult(False, ["no sigil binary found to verify the report (set SIGIL_BIN)"],
                                     method="none")
        result = _structural(report, nonce_hex, allow_debug)
        if expected_measurement:
            measurements = [str(m).lower().removeprefix("0x") for m in _find(report, ("measurement",))]
            if expected_measurement.lower().removeprefix("0x") not in measurements:
                result.errors.append("the report's measurement is not the expected one")
                result.valid = False
        return result

    with tempfile.TemporaryDirectory(prefix="sigil-attest-") as tmp:
        path = os.path.join(tmp, "report.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(report, f)
        args = [binary, "attest", "verify", path, "--nonce", nonce_hex, "--json"]
        if expected_measurement:
            args += ["--expected-measurement", expected_measurement]
        if allow_debug:
            args.append("--allow-debug")
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            return AttestationResult(False, [f"could not run {binary}: {e}"], method="sigil-cli")
    try:
        answer = json.loads(proc.stdout)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and "valid" in answer:
        errors = [str(e) for e in answer.get("errors") or []]
        return AttestationResult(bool(answer["valid"]), errors, method="sigil-cli",
                                 signature_verified=bool(answer["valid"]), details=answer)
    message = (proc.stderr or proc.stdout or "").strip()[:500]
    return AttestationResult(False, [f"sigil attest verify exited {proc.returncode}: {message}"],
                             method="sigil-cli", details=answer)
