"""Logging helpers for outages: one warning every few seconds per process, not one per request."""

import logging
import time

_last: dict[str, float] = {}


def warn_now_and_then(logger: logging.Logger, message: str, *args, every: float = 10.0) -> None:
    """``logger.warning(message, *args)``, at most once every ``every`` seconds per message and process."""
    now = time.monotonic()
    if now - _last.get(message, float("-inf")) >= every:
        _last[message] = now
        logger.warning(message, *args)
