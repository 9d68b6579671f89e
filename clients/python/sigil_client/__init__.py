"""Python client for the Sigil signing daemon (standard library only).

>>> from sigil_client import SigilClient, RemoteSigner
>>> client = SigilClient("http://127.0.0.1:8700", token)   # or SIGIL_URL / SIGIL_TOKEN
>>> raw = client.sign_transaction({"to": "0x…", "value": "0.01 ether", "chainId": 31337, "nonce": 0,
...                                "gas": 21000, "maxFeePerGas": "30 gwei", "maxPriorityFeePerGas": "1 gwei"})

See doc/python-client.md.
"""

from .amounts import format_wei, parse_amount, to_quantity
from .attestation import AttestationResult, verify_report
from .client import SigilClient, normalize_transaction
from .errors import (SigilApprovalFailed, SigilApprovalRequired, SigilAuthError, SigilDenied, SigilError,
                     SigilInvalidParams, SigilLockdown, SigilRateLimited, SigilUnavailable)
from .signer import RemoteSigner
from .tools import (ApprovalStatusTool, ExplainTool, SendTransactionTool, SignMessageTool, SignTransactionTool,
                    ToolResult, describe_refusal, sigil_tools)

__version__ = "0.1.0"

__all__ = [
    "SigilClient", "RemoteSigner", "normalize_transaction",
    "SigilError", "SigilAuthError", "SigilApprovalRequired", "SigilDenied", "SigilLockdown", "SigilRateLimited",
    "SigilUnavailable", "SigilInvalidParams", "SigilApprovalFailed",
    "AttestationResult", "verify_report",
    "ToolResult", "SignTransactionTool", "SendTransactionTool", "SignMessageTool", "ExplainTool",
    "ApprovalStatusTool", "sigil_tools", "describe_refusal",
    "parse_amount", "to_quantity", "format_wei",
]
