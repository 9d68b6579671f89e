"""Typed exceptions for Sigil refusals and failures.

Every exception carries ``.code`` (the JSON-RPC error code, or ``None`` for a
REST/transport failure), ``.message`` (the daemon's sentence), ``.data`` (the
structured refusal data, a dict, empty when absent) and ``.http_status`` (when
the failure came with one).

=================================  ======  ==================================
exception                          code    extra attributes
=================================  ======  ==================================
SigilAuthError                     -32001
SigilApprovalRequired              -32002  approval_id, expires_at, quorum, approvals
SigilDenied                        -32003  rule, reason, budget, budgets
SigilLockdown                      -32004  reason
SigilRateLimited                   -32005  retry_after_ms
SigilUnavailable                   -32006  (also: daemon unreachable, HTTP 503)
SigilInvalidParams                 -32602  (also: HTTP 400)
SigilApprovalFailed                (none)  state: "rejected" | "expired" | "consumed"
SigilError                         other   base class of all of the above
=================================  ======  ==================================
"""

from __future__ import annotations

from typing import Any, Dict, Optional


class SigilError(Exception):
    """Base class: any error reported by (or on the way to) the Sigil daemon."""

    def __init__(self, message: str, code: Optional[int] = None, data: Any = None,
                 http_status: Optional[int] = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.data: Dict[str, Any] = data if isinstance(data, dict) else ({} if data is None else {"data": data})
        self.http_status = http_status

    @property
    def rule(self) -> Optional[str]:
        return self.data.get("rule")

    @property
    def reason(self) -> Optional[str]:
        return self.data.get("reason")

    @property
    def audit_seq(self) -> Optional[int]:
        return self.data.get("audit_seq")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, data={self.data!r})"


class SigilAuthError(SigilError):
    """-32001: the token is missing, invalid, revoked, or lacks the role or key."""


class SigilApprovalRequired(SigilError):
    """-32002: the request is held until enough approvers approve it.

    Poll :meth:`SigilClient.approval_status` (or use
    :meth:`SigilClient.wait_for_approval`) with :attr:`approval_id`; once
    approved, the requester receives the signature exactly once.
    """

    @property
    def approval_id(self) -> Optional[str]:
        return self.data.get("approval_id")

    @property
    def expires_at(self) -> Any:
        return self.data.get("expires_at")

    @property
    def quorum(self) -> Optional[int]:
        q = self.data.get("quorum")
        if q is None and isinstance(self.data.get("approval"), dict):
            q = self.data["approval"].get("quorum")
        return q

    @property
    def approvals(self) -> Any:
        return self.data.get("approvals")


class SigilDenied(SigilError):
    """-32003: the policy denied the request (see :attr:`rule`, :attr:`reason`, :attr:`budget`)."""

    @property
    def budget(self) -> Optional[Dict[str, Any]]:
        b = self.data.get("budget")
        if b is None:
            for entry in self.data.get("budgets") or []:
                if isinstance(entry, dict) and entry.get("exceeded"):
                    return entry
        return b

    @property
    def budgets(self) -> list:
        return list(self.data.get("budgets") or [])


class SigilLockdown(SigilError):
    """-32004: lockdown is in force; nothing can be signed until an admin lifts it."""


class SigilRateLimited(SigilError):
    """-32005: too many requests; wait :attr:`retry_after_ms` milliseconds."""

    @property
    def retry_after_ms(self) -> Optional[int]:
        return self.data.get("retry_after_ms")


class SigilUnavailable(SigilError):
    """-32006 (or the daemon could not be reached): nothing was signed; retry later."""


class SigilInvalidParams(SigilError):
    """-32602: the request itself is malformed; the message names the field."""


class SigilApprovalFailed(SigilError):
    """A held request will never be signed: it was rejected, it expired, or its
    one-time result was already collected (``state`` says which)."""

    def __init__(self, message: str, state: str, data: Any = None):
        super().__init__(message, code=None, data=data)
        self.state = state


_BY_CODE = {
    -32001: SigilAuthError,
    -32002: SigilApprovalRequired,
    -32003: SigilDenied,
    -32004: SigilLockdown,
    -32005: SigilRateLimited,
    -32006: SigilUnavailable,
    -32602: SigilInvalidParams,
}

_BY_HTTP_STATUS = {
    400: SigilInvalidParams,
    401: SigilAuthError,
    403: SigilAuthError,
    423: SigilLockdown,
    429: SigilRateLimited,
    503: SigilUnavailable,
}


def error_from_rpc(error: Dict[str, Any], http_status: Optional[int] = None) -> SigilError:
    """The exception for a JSON-RPC error object ``{code, message, data}``."""
    code = error.get("code")
    message = str(error.get("message") or "Sigil refused the request")
    cls = _BY_CODE.get(code, SigilError) if isinstance(code, int) else SigilError
    return cls(message, code=code if isinstance(code, int) else None, data=error.get("data"),
               http_status=http_status)


def error_from_http(status: int, body: Any) -> SigilError:
    """The exception for a failed REST call: the JSON-RPC code in the body when
    there is one, else the HTTP status decides."""
    message = f"HTTP {status}"
    data: Any = None
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            if isinstance(err.get("code"), int):
                return error_from_rpc(err, http_status=status)
            message = str(err.get("message") or message)
            data = err.get("data", {k: v for k, v in err.items() if k != "message"})
        elif isinstance(err, str):
            message = err
    elif isinstance(body, str) and body.strip():
        message = body.strip()[:500]
    cls = _BY_HTTP_STATUS.get(status, SigilUnavailable if status >= 500 else SigilError)
    return cls(message, code=None, data=data, http_status=status)
