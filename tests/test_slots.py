"""A fetcher's share of the per-host slots workers hold through a gate: kept a moment and
reused, given back in time, on a host's request to wait, and at the end."""

from __future__ import annotations

import asyncio

import pytest

from tidings.fetch.slots import LeftAlone, SharedSlots


class CountingGate:
    """A HostGate that counts its round trips (each call would be one)."""

    def __init__(self, wait: float = 0.0) -> None:
        self.taken: dict[str, set[int]] = {}
        self.calls: list[str] = []
        self.wait = wait
        self.backed_off: list[tuple[str, float]] = []

    def wait_seconds(self, host: str) -> float:
        self.calls.append("wait")
        return self.wait

    def acquire(self, host: str, per_host: int) -> int | None:
        self.calls.append("acquire")
        mine = self.taken.setdefault(host, set())
        free = [slot for slot in range(per_host) if slot not in mine]
        if not free:
            return None
        mine.add(free[0])
        return free[0]

    def release(self, host: str, slot: int) -> None:
        self.calls.append("release")
        self.taken[host].discard(slot)

    def back_off(self, host: str, seconds: float) -> None:
        self.backed_off.append((host, seconds))


def test_a_slot_given_back_is_reused_by_the_next_request_and_released_after_the_linger() -> None:
    async def run() -> None:
        gate = CountingGate()
        slots = SharedSlots(gate, 6, linger=0.05, reuses=3)
        first = await slots.take("a.example")
        slots.give_back("a.example", first)
        again = await slots.take("a.example")  # no acquire: the kept slot
        assert again is first and gate.calls.count("acquire") == 1 and gate.calls.count("release") == 0
        slots.give_back("a.example", again)
        await asyncio.sleep(0.1)  # nobody wanted it: back to the gate
        assert gate.calls.count("release") == 1 and gate.taken["a.example"] == set()


    asyncio.run(run())


def test_a_slot_goes_back_after_its_reuses_on_a_hosts_request_to_wait_and_at_close() -> None:
    async def run() -> None:
        gate = CountingGate()
        slots = SharedSlots(gate, 6, linger=10, reuses=2)
        kept = await slots.take("a.example")
        slots.give_back("a.example", kept)
        kept = await slots.take("a.example")
        slots.give_back("a.example", kept)  # its second request: given back at once
        assert gate.calls.count("release") == 1
        kept = await slots.take("a.example")
        slots.give_back("a.example", kept, retry_after=30)  # the host asked everybody to wait
        assert gate.backed_off == [("a.example", 30)] and gate.calls.count("release") == 2
        other = await slots.take("b.example")
        slots.give_back("b.example", other)
        slots.close()  # kept ones go back
        assert gate.calls.count("release") == 3 and all(not taken for taken in gate.taken.values())

    asyncio.run(run())


def test_a_host_that_asked_to_be_left_alone_is_refused_and_its_kept_slot_goes_back() -> None:
    async def run() -> None:
        gate = CountingGate()
        slots = SharedSlots(gate, 6, linger=10)
        kept = await slots.take("a.example")
        slots.give_back("a.example", kept)
        gate.wait = 60.0
        with pytest.raises(LeftAlone) as refused:
            await slots.take("a.example")
        assert refused.value.seconds == 60.0 and gate.taken["a.example"] == set()

    asyncio.run(run())


def test_a_full_host_is_waited_for_until_a_slot_comes_free() -> None:
    async def run() -> None:
        gate = CountingGate()
        slots = SharedSlots(gate, 1, linger=0)
        held = await slots.take("a.example")
        waiting = asyncio.ensure_future(slots.take("a.example"))
        await asyncio.sleep(0.05)
        assert not waiting.done() and gate.calls.count("acquire") >= 2  # it polled
        slots.give_back("a.example", held)  # linger 0: straight back to the gate
        assert (await asyncio.wait_for(waiting, 2)).slot == 0

    asyncio.run(run())
