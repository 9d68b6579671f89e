"""RemoteSigner: an EVM signer whose key lives in Sigil.

It has the method shapes of SpoonOS's ``EvmSigner`` (spoon_ai: ``async
sign_transaction(tx_dict, rpc_url) -> str``, ``async get_address() -> str``,
``signer_type`` property), plus ``sign_message`` and ``sign_typed_data``, so it
can stand in wherever such a signer is expected (SpoonOS's own LocalSigner and
TurnkeySigner have these shapes). No SpoonOS package is needed or imported.

Differences worth knowing:

* The raw transaction is returned ``0x``-prefixed (web3's
  ``send_raw_transaction`` accepts both forms).
* ``rpc_url`` is accepted for signature compatibility and ignored: Sigil signs
  exactly the transaction it is given (give ``chainId``, ``nonce``, ``gas`` and
  fees), and the policy decides on that.
* A refusal raises the typed :mod:`sigil_client.errors` exception (not a
  generic SignerError): catch :class:`~sigil_client.errors.SigilError` (or a
  subclass) to read the rule and reason. With ``wait_for_approval=True`` a
  request held for approval is polled until approvers decide.

Calls run the blocking client in a worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional, Union

from .client import SigilClient
from .errors import SigilApprovalRequired

__all__ = ["RemoteSigner"]


class RemoteSigner:
    def __init__(self, client: SigilClient, address: Optional[str] = None, wait_for_approval: bool = False,
                 approval_timeout: float = 3600.0, poll_interval: float = 2.0):
        self.client = client
        self._address = address
        self.wait_for_approval = wait_for_approval
        self.approval_timeout = approval_timeout
        self.poll_interval = poll_interval

    @property
    def signer_type(self) -> str:
        return "sigil"

    async def get_address(self) -> str:
        if self._address is None:
            self._address = await asyncio.to_thread(self.client.default_address)
        return self._address

    async def sign_transaction(self, tx_dict: Dict[str, Any], rpc_url: Optional[str] = None) -> str:
        """Returns the raw signed transaction, 0x-hex."""
        tx = dict(tx_dict)
        if "from" not in tx:
            tx["from"] = await self.get_address()
        return await self._held(self.client.sign_transaction, tx)

    async def send_transaction(self, tx_dict: Dict[str, Any]) -> str:
        """Signs and broadcasts through Sigil's upstream node; returns the tx hash."""
        tx = dict(tx_dict)
        if "from" not in tx:
            tx["from"] = await self.get_address()
        return await self._held(self.client.send_transaction, tx)

    async def sign_message(self, message: Union[str, bytes]) -> str:
        """EIP-191 personal_sign; returns the 65-byte signature, 0x-hex."""
        return await self._held(self.client.sign_message, message, await self.get_address())

    async def sign_typed_data(self, typed_data: Union[Dict[str, Any], str]) -> str:
        """EIP-712 v4; returns the signature, 0x-hex."""
        return await self._held(self.client.sign_typed_data, typed_data, await self.get_address())

    async def _held(self, fn, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args)
        except SigilApprovalRequired as held:
            if not self.wait_for_approval or not held.approval_id:
                raise
            return await asyncio.to_thread(self.client.wait_for_approval, held.approval_id,
                                           self.approval_timeout, self.poll_interval)
