"""Agent tools in the SpoonOS ``BaseTool`` shape, backed by Sigil.

Each tool has ``name``, ``description``, ``parameters`` (a JSON Schema for
the arguments), ``async execute(**kwargs)`` returning a :class:`ToolResult`
(``output`` on success, ``error`` with a sentence the model can act on when
refused), ``__call__`` and ``to_param()`` (the OpenAI function-calling form).
That is the interface SpoonOS's ``spoon_ai.tools.base.BaseTool`` defines; the
classes are written against the shape, so no SpoonOS package is required. To
register them in a SpoonOS ``ToolCollection``, pass them as they are (duck
typing), or wrap each in a small ``BaseTool`` subclass that forwards
``execute``.

The tools and their arguments match Sigil's MCP tools (doc/mcp.md):
``sign_transaction``, ``send_transaction``, ``explain``, ``approval_status``
(plus ``sign_message``). Amounts are strings such as ``"0.05 ether"`` or
decimal wei; floats are refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from .amounts import format_wei
from .client import SigilClient
from .errors import (SigilApprovalRequired, SigilAuthError, SigilDenied, SigilError, SigilInvalidParams,
                     SigilLockdown, SigilRateLimited, SigilUnavailable)

__all__ = ["ToolResult", "SigilTool", "SignTransactionTool", "SendTransactionTool", "SignMessageTool", "ExplainTool",
           "ApprovalStatusTool", "sigil_tools", "describe_refusal"]


@dataclass
class ToolResult:
    """Same fields and truthiness as SpoonOS's ToolResult."""

    output: Any = None
    error: Optional[str] = None
    system: Optional[str] = None

    def __bool__(self) -> bool:
        return self.output is not None or self.error is not None

    def __str__(self) -> str:
        return f"Error: {self.error}" if self.error else str(self.output)


def _int(value: Any) -> Optional[int]:
    try:
        if isinstance(value, str):
            return int(value, 16) if value.lower().startswith("0x") else int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    except ValueError:
        pass
    return None


def _measure_words(amount: int, measure: str) -> str:
    if measure == "count":
        return f"{amount} request" + ("" if amount == 1 else "s")
    if measure == "amount":
        return f"{amount} token units"
    return format_wei(amount)


def describe_refusal(error: SigilError) -> str:
    """What happened and what the agent may do next, in one or two sentences
    (the same wording as Sigil's MCP server)."""
    d = error.data
    reason = d.get("reason") or error.message
    if isinstance(error, SigilDenied):
        rule = d.get("rule")
        text = (f"Denied by rule {rule}: {reason}." if rule else f"Denied by policy: {reason}.")
        budget = error.budget
        if isinstance(budget, dict):
            measure = budget.get("measure") or "value"
            window = budget.get("window")
            where = f"in the {window} window" if window else "in the budget window"
            remaining = _int(budget.get("remaining"))
            if remaining is None:
                limit, spent = _int(budget.get("limit")), _int(budget.get("spent"))
                if limit is not None and spent is not None:
                    remaining = max(limit - spent, 0)
            if remaining:
                if measure == "count":
                    return text + f" At most {_measure_words(remaining, measure)} remain {where}; wait, or ask a human to raise the limit."
                return text + (f" At most {_measure_words(remaining, measure)} remains {where}; retry with a smaller "
                               f"{'amount' if measure == 'amount' else 'value'} or ask a human to raise the limit.")
            if remaining == 0:
                return text + f" Nothing remains {where}; wait until earlier spending leaves the window, or ask a human to raise the limit."
        return text + " Do not resend the same request; use explain to see which rule decides, or ask a human."
    if isinstance(error, SigilApprovalRequired):
        quorum = error.quorum
        who = f"{quorum} approver{'s' if quorum != 1 else ''} must approve" if quorum else "approvers must approve"
        ident = error.approval_id or "(no id)"
        return (f"Held for approval {ident}: {who}. Nothing has been signed yet. Call approval_status with "
                f"approval_id \"{ident}\" to collect the signature once it is approved; do not resend the request.")
    if isinstance(error, SigilLockdown):
        return f"Lockdown in force: {reason}. No key can sign until an administrator lifts the lockdown; do not retry, ask a human."
    if isinstance(error, SigilRateLimited):
        wait = error.retry_after_ms
        return f"Rate limited: {reason}." + (f" Retry after {wait} ms." if wait is not None else " Wait before retrying.")
    if isinstance(error, SigilAuthError):
        return (f"Not authorized: {error.message}. This agent's token may not do this; list the accounts you may use, "
                "or ask a human to grant access.")
    if isinstance(error, SigilUnavailable):
        return f"Sigil is unavailable: {error.message}. Nothing was signed; retry later."
    if isinstance(error, SigilInvalidParams):
        return f"Invalid arguments: {error.message}. Fix the arguments and call the tool again."
    return f"Sigil returned an error: {error.message}."


_TX_PARAMETERS: Dict[str, Any] = {
    "type": "object",
    "properties": {
        "from": {"type": "string", "description": "Sender address; optional when the agent has one account."},
        "to": {"type": "string", "description": "Recipient or contract address (0x + 40 hex)."},
        "value": {"type": ["string", "integer"],
                  "description": "Amount: decimal wei, 0x-hex, or with a unit such as \"0.05 ether\". Never a float."},
        "data": {"type": "string", "description": "Call data, 0x-hex."},
        "chainId": {"type": ["string", "integer"]},
        "nonce": {"type": ["string", "integer"]},
        "gas": {"type": ["string", "integer"]},
        "maxFeePerGas": {"type": ["string", "integer"], "description": "e.g. \"30 gwei\""},
        "maxPriorityFeePerGas": {"type": ["string", "integer"], "description": "e.g. \"1 gwei\""},
        "gasPrice": {"type": ["string", "integer"]},
    },
    "required": ["to"],
    "additionalProperties": False,
}

_EXPLAINABLE = {
    "sign_transaction": "eth_signTransaction",
    "send_transaction": "eth_sendTransaction",
}


class SigilTool:
    """Base: ``name``, ``description``, ``parameters``, ``async execute(**kwargs)``."""

    name: str = ""
    description: str = ""
    parameters: Dict[str, Any] = {"type": "object", "properties": {}}

    def __init__(self, client: SigilClient):
        self.client = client

    async def __call__(self, **kwargs: Any) -> ToolResult:
        return await self.execute(**kwargs)

    def to_param(self) -> Dict[str, Any]:
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}

    async def execute(self, **kwargs: Any) -> ToolResult:
        import asyncio

        try:
            output = await asyncio.to_thread(self.run, **kwargs)
            return ToolResult(output=output)
        except SigilError as e:
            return ToolResult(error=describe_refusal(e), system=json.dumps({"code": e.code, **e.data}, default=str))
        except (ValueError, TypeError) as e:
            return ToolResult(error=f"Invalid arguments: {e}. Fix the arguments and call the tool again.")

    def run(self, **kwargs: Any) -> Any:  # blocking body
        raise NotImplementedError


class SignTransactionTool(SigilTool):
    name = "sign_transaction"
    description = ("Sign an Ethereum transaction with the agent's Sigil key without sending it; returns the raw "
                   "signed transaction. Give chainId, nonce, gas and fees. The policy may deny it (the error says why "
                   "and what to do) or hold it for human approval (use approval_status with the approval id).")
    parameters = _TX_PARAMETERS

    def run(self, **tx: Any) -> Dict[str, Any]:
        return {"raw_transaction": self.client.sign_transaction(tx)}


class SendTransactionTool(SigilTool):
    name = "send_transaction"
    description = ("Sign an Ethereum transaction and broadcast it through Sigil's node (nonce, gas and fees filled "
                   "in); returns the transaction hash. Moves real funds when allowed.")
    parameters = _TX_PARAMETERS

    def run(self, **tx: Any) -> Dict[str, Any]:
        return {"tx_hash": self.client.send_transaction(tx)}


class SignMessageTool(SigilTool):
    name = "sign_message"
    description = "Sign a text message with the agent's Ethereum key (EIP-191 personal_sign)."
    parameters = {"type": "object",
                  "properties": {"message": {"type": "string"},
                                 "address": {"type": "string", "description": "optional signing address"}},
                  "required": ["message"], "additionalProperties": False}

    def run(self, message: str, address: Optional[str] = None) -> Dict[str, Any]:
        return {"signature": self.client.sign_message(message, address)}


class ExplainTool(SigilTool):
    name = "explain"
    description = ("Dry-run a transaction against the policy without signing: the decision (allow, deny, "
                   "require_approval), the rule, the reason and every budget with what remains. Use it to find the "
                   "largest amount that would be allowed (largest_allowed_value, in wei).")
    parameters = {"type": "object",
                  "properties": {"tool": {"type": "string", "enum": sorted(_EXPLAINABLE)},
                                 "arguments": {"type": "object", "description": "the transaction arguments"}},
                  "required": ["tool", "arguments"], "additionalProperties": False}

    def run(self, tool: str, arguments: Dict[str, Any]) -> Dict[str, Any]:
        if tool not in _EXPLAINABLE:
            raise ValueError(f"explain can dry-run {', '.join(sorted(_EXPLAINABLE))}, not {tool!r}")
        result = self.client.explain(_EXPLAINABLE[tool], dict(arguments))
        remaining: List[int] = []
        for b in result.get("budgets") or []:
            if isinstance(b, dict) and (b.get("measure") or "value") == "value":
                r = _int(b.get("remaining"))
                if r is not None:
                    remaining.append(r)
        if remaining:
            result["largest_allowed_value"] = str(min(remaining))
            result["largest_allowed_value_text"] = format_wei(min(remaining))
        return result


class ApprovalStatusTool(SigilTool):
    name = "approval_status"
    description = ("Check a request held for human approval. While pending, call again later; once approved, the "
                   "first call returns the original request's result (signed transaction or hash) exactly once.")
    parameters = {"type": "object", "properties": {"approval_id": {"type": "string"}},
                  "required": ["approval_id"], "additionalProperties": False}

    def run(self, approval_id: str) -> Dict[str, Any]:
        return self.client.approval_status(approval_id)


def sigil_tools(client: SigilClient) -> List[SigilTool]:
    """Every tool, bound to ``client``."""
    return [cls(client) for cls in (SignTransactionTool, SendTransactionTool, SignMessageTool, ExplainTool,
                                    ApprovalStatusTool)]
