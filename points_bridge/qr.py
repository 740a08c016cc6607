"""QR images with segno. Pure functions: no database, no locks (call them outside transactions)."""

import io

import segno


def _make(content: str):
    # Level M survives a smudged print or a glare on a screen and keeps our ~80-character URLs small.
    return segno.make(content, error="m", micro=False)


def png(content: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    _make(content).save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def svg(content: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    _make(content).save(buffer, kind="svg", scale=scale, border=2, xmldecl=True)
    return buffer.getvalue()


def svg_inline(content: str, *, scale: int = 5) -> str:
    """An <svg> element to put straight into a page (the printable sheet, "my points")."""
    return _make(content).svg_inline(scale=scale, border=2)
