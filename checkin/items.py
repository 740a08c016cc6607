"""Ticket types as pretix *items*: a stable numeric id per (event, type name), and the per-type scanner
flags (``checkin_attention``, ``checkin_text``), looked up from a small per-process cache.

Why a cache: the redeem answer needs the item id and the flags of the scanned ticket on every scan, and a
query per scan would undo the hot path's pinned statement count. Ids never change once a row exists (rows
are created on first use and never renamed), so they are cached for the life of the process; the flags
can be edited in the admin and are re-read after ``FLAGS_TTL`` seconds at most.
"""

import time
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from checkin.models import TicketType

FLAGS_TTL = 30.0  # seconds an admin's edit of a type's scanner flags may take to reach every scanner
_cache: dict[tuple[int, str], tuple[float, "ItemInfo"]] = {}


@dataclass(frozen=True)
class ItemInfo:
    id: int
    admission: bool = True
    checkin_attention: bool = False
    checkin_text: str = ""
    price: str = "0.00"


def _info(row: TicketType) -> ItemInfo:
    return ItemInfo(id=row.pk, admission=row.admission, checkin_attention=row.checkin_attention,
                    checkin_text=row.checkin_text, price=f"{row.default_price:.2f}")


def ensure(event_id: int, name: str) -> TicketType:
    """The row of this type, created on first use. Safe under races: the unique (event, name) constraint
    makes the loser read the winner's row."""
    row = TicketType.objects.filter(event_id=event_id, name=name).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return TicketType.objects.create(event_id=event_id, name=name)
    except IntegrityError:
        return TicketType.objects.get(event_id=event_id, name=name)


def item(event_id: int, name: str) -> ItemInfo:
    key, now = (event_id, name), time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < FLAGS_TTL:
        return hit[1]
    info = _info(ensure(event_id, name))
    _cache[key] = (now, info)
    return info


def items_for_event(event_id: int, names) -> dict[str, ItemInfo]:
    """Every type of ``names`` (and every type already known for the event), in one read when warm."""
    found = {row.name: row for row in TicketType.objects.filter(event_id=event_id)}
    for name in set(names) - set(found):
        found[name] = ensure(event_id, name)
    now = time.monotonic()
    infos = {name: _info(row) for name, row in found.items()}
    for name, info in infos.items():
        _cache[(event_id, name)] = (now, info)
    return infos


def forget() -> None:
    """Empty the cache (tests; the admin after editing flags in this process)."""
    _cache.clear()
