"""The project's page parameters: ``limit`` and ``offset``, bounded, and refused when they are not.

DRF's LimitOffsetPagination has no upper bound by default and quietly falls back to the default for
a value it cannot read; ``?limit=100000000000000000000`` went into SQL's LIMIT and PostgreSQL (and
SQLite) answered with an error, a 500. We refuse instead of clamping (pretix clamps its page_size):
a client that asks for a page it cannot get should hear so, and a typo should not silently page
differently. Both answer 400 ``invalid_pagination``.
"""

import re

from rest_framework.pagination import LimitOffsetPagination

from config.parsers import InputRefused

MAX_LIMIT = 1000
# No listing of ours comes near this many rows; the bound only keeps the number a small integer.
MAX_OFFSET = 1_000_000_000
_DIGITS = re.compile(r"[0-9]{1,10}")


class Pagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def get_limit(self, request) -> int:
        return self._bounded(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request) -> int:
        return self._bounded(request, self.offset_query_param, 0, 0, MAX_OFFSET)

    @staticmethod
    def _bounded(request, name: str, default: int, low: int, high: int) -> int:
        raw = request.query_params.get(name, "")
        if raw == "":
            return default
        if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
            raise InputRefused(f"{name} must be a whole number from {low} to {high}.", code="invalid_pagination")
        return int(raw)
