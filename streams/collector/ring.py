"""A consistent hash ring that spreads scrape targets over the live collector instances.

Every collector builds the same :class:`HashRing` from the live membership and scrapes only
the targets it owns, so each target is scraped by exactly one collector (or by
``replication_factor`` of them). When a collector joins it takes over only the targets that
now hash to it; when one leaves, only its targets move, to the survivors.

Why not ``uhashring`` (2.5): measured side by side on 1,000 realistic targets and 150 to 300
sets of 5 collectors, the two spread and move targets the same when given the same number of
points per member; balance comes from the point count, not the library. But uhashring is untyped
(no ``py.typed``, so ``mypy --strict`` needs an override), mutable, offers replication only as
a generator to walk, and defaults to 160 points, which is too few (see ``DEFAULT_VNODES``).
This ring is small, immutable and typed; it builds up to twice as fast and looks keys up
15-20 % faster.

Hash: BLAKE2b, read as 64-bit big-endian integers (a key's 8-byte digest; eight ring points
from each 64-byte digest of ``member#block``). It is the same in every process, Python run
and platform (unlike the salted built-in ``hash()``), and 64 bits make point collisions
negligible; a collision is still broken by member name, so the ring never depends on the
order the members were given in.
"""

from __future__ import annotations

import struct
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from hashlib import blake2b

from streams.errors import ConfigError

DEFAULT_VNODES = 2000
"""Points per member, chosen by measuring 900 sets of 5 members on 1,000 realistic targets.

The worst-off member's share of the ring is off the even 1/5 by 10.6 % on average at 160
points (uhashring's default), 5.9 % at 500, 4.2 % at 1,000 and 3.0 % at 2,000. With 1,000
targets, some member ends up more than 15 % off its even 200 for 41 % of the member sets at
160 points, 14 % at 1,000 and 9 % at 2,000; 4,000 do no better, since even a perfectly even
split leaves 5-7 % (the targets' own sampling noise). Building takes about 1 ms per 2,000
points: 4 ms for 5 members, 57 ms for 50.
"""


_EIGHT_POINTS = struct.Struct(">8Q")


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text`` that is the same in every process and Python run."""
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "big")


def _points(member: str, vnodes: int) -> Iterator[int]:
    """The ``vnodes`` ring points of ``member``: eight from each 64-byte BLAKE2b digest."""
    for block in range(-(-vnodes // 8)):
        digest = blake2b(f"{member}#{block}".encode()).digest()
        yield from _EIGHT_POINTS.unpack(digest)[: vnodes - 8 * block]


class HashRing:
    """An immutable consistent hash ring of collector members with virtual nodes.

    Each member gets ``vnodes`` points on a 64-bit ring; a key belongs to the member of the
    first point clockwise from the key's hash, and with ``replication_factor`` R to the
    first R distinct members met clockwise. A lookup is one BLAKE2b hash and one bisection:
    about 0.9 us per key with 5 members (1.1 us with R=2), 1.2 us with 200.

    Args:
        members: names of the live collectors; duplicates count once.
        vnodes: points per member; more points give a more even spread.
        replication_factor: how many distinct members own each key.

    Raises:
        ConfigError: when ``vnodes`` or ``replication_factor`` is below 1, or a member name
            is not a non-empty string.

    Example:
        >>> ring = HashRing(["collector-0", "collector-1", "collector-2"])
        >>> owner, = ring.owners("10.0.3.17:9100")
        >>> ring.owns(owner, "10.0.3.17:9100")
        True
        >>> grown = ring.with_members([*ring.members, "collector-3"])
        >>> grown.owners("10.0.3.17:9100") in {(owner,), ("collector-3",)}
        True
    """

    __slots__ = ("_members", "_owner_at", "_points", "_replication_factor", "_vnodes")

    def __init__(
        self,
        members: Iterable[str] = (),
        *,
        vnodes: int = DEFAULT_VNODES,
        replication_factor: int = 1,
    ) -> None:
        if isinstance(members, str):
            raise ConfigError(
                f"hash ring members must be a list of names, not the string {members!r}"
            )
        if vnodes < 1:
            raise ConfigError(f"hash ring vnodes must be at least 1, got {vnodes}")
        if replication_factor < 1:
            raise ConfigError(
                f"hash ring replication_factor must be at least 1, got {replication_factor}"
            )
        names = set(members)
        for name in names:
            if not isinstance(name, str) or not name:
                raise ConfigError(f"hash ring member names must be non-empty strings, got {name!r}")
        self._members = tuple(sorted(names))
        self._vnodes = vnodes
        self._replication_factor = replication_factor
        ring = sorted((point, name) for name in self._members for point in _points(name, vnodes))
        self._points = [point for point, _ in ring]
        self._owner_at = [name for _, name in ring]

    @property
    def members(self) -> tuple[str, ...]:
        """The member names, sorted."""
        return self._members

    @property
    def vnodes(self) -> int:
        """Points per member."""
        return self._vnodes

    @property
    def replication_factor(self) -> int:
        """How many distinct members own each key (fewer when there are fewer members)."""
        return self._replication_factor

    def with_members(self, members: Iterable[str]) -> HashRing:
        """A ring of ``members`` with the same ``vnodes`` and ``replication_factor``."""
        return HashRing(members, vnodes=self._vnodes, replication_factor=self._replication_factor)

    def owners(self, key: str) -> tuple[str, ...]:
        """The distinct members that own ``key``, primary first; empty for an empty ring."""
        owner_at = self._owner_at
        if not owner_at:
            return ()
        start = bisect_right(self._points, stable_hash(key))
        size = len(owner_at)
        first = owner_at[start % size]
        wanted = min(self._replication_factor, len(self._members))
        if wanted == 1:
            return (first,)
        found = [first]
        for step in range(1, size):
            name = owner_at[(start + step) % size]
            if name not in found:
                found.append(name)
                if len(found) == wanted:
                    break
        return tuple(found)

    def owns(self, member: str, key: str) -> bool:
        """Whether ``member`` is one of the owners of ``key``."""
        return member in self.owners(key)

    def assign(self, keys: Iterable[str]) -> dict[str, list[str]]:
        """Every member's keys, in the order given; members that own none get an empty list."""
        assigned: dict[str, list[str]] = {name: [] for name in self._members}
        for key in keys:
            for name in self.owners(key):
                assigned[name].append(key)
        return assigned

    def __repr__(self) -> str:
        return (
            f"HashRing({list(self._members)!r}, vnodes={self._vnodes}, "
            f"replication_factor={self._replication_factor})"
        )
