"""A fetcher's share of the per-host slots several workers hold through a
:class:`~tidings.fetch.base.HostGate`.

Taking a slot from the gate and giving it back are round trips to the database. A
process that sends several requests to one host in a row (a feed, then the pages it
links to) would pay them for every request, from its event loop. So a slot given back
is kept for a moment (``linger``) and reused by this process's next request to the same
host; it goes back to the gate when nobody here wanted it in time, after ``reuses``
requests (so that other workers get their turn at a busy host), when the host asked
everybody to wait, and when the fetcher closes. Every worker still has at most
``per_host`` requests in flight to a host together with the others: a slot kept here is
a slot nobody else holds.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from .base import HostGate

__all__ = ["LINGER", "REUSES", "LeftAlone", "SharedSlots"]

#: Seconds a slot no request of this process uses is kept before it goes back.
LINGER = 0.25
#: Requests one slot serves before it goes back to the gate (fairness among workers).
REUSES = 16


class LeftAlone(Exception):  # noqa: N818 - a state, not a failure of the code
    """The host asked every worker to wait ``seconds`` more."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


@dataclass(slots=True, eq=False)
class _Kept:
    slot: int
    served: int
    timer: asyncio.TimerHandle | None = None


class SharedSlots:
    """Slots of a :class:`HostGate` taken, kept a moment and given back (see the module
    docstring). Used from one event loop."""

    def __init__(self, gate: HostGate, per_host: int, *, linger: float = LINGER, reuses: int = REUSES) -> None:
        self._gate, self._per_host = gate, per_host
        self._linger, self._reuses = linger, reuses
        self._idle: dict[str, list[_Kept]] = {}

    async def take(self, host: str) -> _Kept:
        """One of the host's slots: a kept one, else one from the gate (polling until one
        is free: the caller's own time limit bounds the wait). :class:`LeftAlone` if the
        host asked every worker to wait."""
        idle = self._idle.get(host)
        if idle:
            kept = idle.pop()
            if kept.timer is not None:
                kept.timer.cancel()
                kept.timer = None
            self._unless_left_alone(host, kept.slot)  # a value at most a moment old
            return kept
        waiting = self._gate.wait_seconds(host)
        if waiting > 0:
            raise LeftAlone(waiting)
        pause = 0.01
        while (slot := self._gate.acquire(host, self._per_host)) is None:
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 0.2)
        # Taking a slot reads the host's back-off afresh: the slot may have come free
        # because the host just asked everybody to wait.
        self._unless_left_alone(host, slot)
        return _Kept(slot, 0)

    def _unless_left_alone(self, host: str, slot: int) -> None:
        """Give ``slot`` back and raise :class:`LeftAlone` if the host asked every worker to wait."""
        waiting = self._gate.wait_seconds(host)
        if waiting > 0:
            self._gate.release(host, slot)
            raise LeftAlone(waiting)

    def give_back(self, host: str, kept: _Kept, *, retry_after: float | None = None) -> None:
        """The request holding ``kept`` is over; ``retry_after``: the host answered 429/503
        asking everybody to wait that long."""
        if retry_after:
            self._gate.back_off(host, retry_after)
        kept.served += 1
        if retry_after or kept.served >= self._reuses or self._linger <= 0:
            self._gate.release(host, kept.slot)
            return
        kept.timer = asyncio.get_running_loop().call_later(self._linger, self._expire, host, kept)
        self._idle.setdefault(host, []).append(kept)

    def _expire(self, host: str, kept: _Kept) -> None:
        idle = self._idle.get(host, [])
        if kept in idle:
            idle.remove(kept)
            self._gate.release(host, kept.slot)

    def close(self) -> None:
        """Give every kept slot back."""
        idle, self._idle = self._idle, {}
        for host, kept_slots in idle.items():
            for kept in kept_slots:
                if kept.timer is not None:
                    kept.timer.cancel()
                self._gate.release(host, kept.slot)
