"""The Guacamole wire format: ``LEN.VALUE`` elements, ``,``-separated, ``;``-terminated.

Lengths count Unicode code points. :func:`scan` finds whole instructions in UTF-8 bytes (in C
when ``visa_guacamole._scan`` is built: it is the relay's hot path), :class:`InstructionScanner`
in a text stream; a relay forwards them verbatim. :func:`parse` splits one instruction into its
elements.
"""

from __future__ import annotations

from collections.abc import Callable

#: A single instruction may not be longer than this (guacd's own limit is 8 KiB per element
#: for most instructions; image blobs come in 6 KiB pieces).
MAX_INSTRUCTION = 1024 * 1024
#: An element's length has at most this many digits.
MAX_LENGTH_DIGITS = 11


class WireError(ValueError):
    """Not a Guacamole instruction stream."""


def encode(opcode: str, *args: object) -> str:
    """``encode("size", 1024, 768)`` -> ``"4.size,4.1024,3.768;"``."""
    return ",".join(f"{len(s)}.{s}" for s in (opcode, *map(str, args))) + ";"


def parse(instruction: str) -> list[str]:
    """The elements of one complete instruction (opcode first)."""
    elements: list[str] = []
    pos = 0
    while True:
        dot = instruction.find(".", pos)
        digits = instruction[pos:dot] if dot >= 0 else ""
        if not digits.isdigit():
            raise WireError(f"bad element length {digits[:20]!r}")
        end = dot + 1 + int(digits)
        if end >= len(instruction):
            raise WireError("incomplete instruction")
        elements.append(instruction[dot + 1 : end])
        terminator = instruction[end]
        if terminator == ";":
            if end + 1 != len(instruction):
                raise WireError("text after the end of the instruction")
            return elements
        if terminator != ",":
            raise WireError(f"bad element terminator {terminator!r}")
        pos = end + 1


def _scan_python(buffer: bytes | bytearray, start: int, end: int) -> tuple[int, int]:
    """:func:`scan` where the C scanner is not built (the same answers, slower)."""
    pos, complete = start, -1
    while pos < end:
        limit = min(end, pos + MAX_LENGTH_DIGITS + 1)
        dot = buffer.find(b".", pos, limit)
        if dot < 0:
            if not buffer[pos:limit].isdigit() or limit - pos > MAX_LENGTH_DIGITS:
                raise ValueError(f"bad element length at offset {pos}")
            break  # the length goes on in bytes not yet received
        digits = buffer[pos:dot]
        if not digits.isdigit():
            raise ValueError(f"bad element length at offset {pos}")
        value_end = _skip_code_points(buffer, dot + 1, end, int(digits))
        if value_end == -2:
            raise ValueError(f"not UTF-8 at offset {pos}")
        if value_end < 0 or value_end >= end:
            break  # the value or its terminator is still to come
        terminator = buffer[value_end]
        if terminator == 0x3B:  # ;
            complete = value_end + 1
        elif terminator != 0x2C:  # ,
            raise ValueError(f"bad element terminator at offset {pos}")
        pos = value_end + 1
    return complete, pos


def _skip_code_points(buffer: bytes | bytearray, pos: int, end: int, count: int) -> int:
    """Where ``count`` code points from ``pos`` end; -1 past ``end``, -2 on a bad lead byte."""
    if count <= end - pos:
        if buffer[pos : pos + count].isascii():
            return pos + count
    elif buffer[pos:end].isascii():
        return -1
    while count > 0:
        if pos >= end:
            return -1
        lead = buffer[pos]
        if lead < 0x80:
            pos += 1
        elif lead & 0xE0 == 0xC0:
            pos += 2
        elif lead & 0xF0 == 0xE0:
            pos += 3
        elif lead & 0xF8 == 0xF0:
            pos += 4
        else:
            return -2
        count -= 1
    return pos if pos <= end else -1


Scan = Callable[[bytes | bytearray, int, int], tuple[int, int]]
_scan_c: Scan | None
try:
    from visa_guacamole._scan import scan as _built

    _scan_c = _built
except ImportError:  # built without a C compiler: the same scanner in Python
    _scan_c = None

#: ``scan(buffer, start, end) -> (complete, next)``: reads the whole elements of UTF-8
#: ``buffer[start:end]`` (an element starts at ``start``). ``complete`` is the offset just after
#: the last whole instruction read (-1 if none), ``next`` where the first unread element starts.
#: ``ValueError`` when the bytes are not an instruction stream. The values' UTF-8 is not
#: validated beyond their lead bytes: decode what you take. C when built, else Python.
scan: Scan = _scan_c or _scan_python


class InstructionScanner:
    """Cuts a text stream at instruction boundaries: ``feed`` returns whole instructions only."""

    def __init__(self, max_instruction: int = MAX_INSTRUCTION) -> None:
        self._pending = bytearray()
        self._scan = 0  # where the next element of the unfinished instruction starts
        self._max = max_instruction

    @property
    def pending(self) -> int:
        """Bytes of an unfinished instruction held back."""
        return len(self._pending)

    def feed(self, text: str) -> str:
        """The complete instructions now available (maybe several, maybe none: ``""``)."""
        self._pending += text.encode()
        try:
            complete, self._scan = scan(self._pending, self._scan, len(self._pending))
        except ValueError as exc:
            raise WireError(str(exc)) from None
        out = ""
        if complete > 0:
            out = self._pending[:complete].decode()
            del self._pending[:complete]
            self._scan -= complete
        if len(self._pending) > self._max:
            raise WireError("instruction too long")
        return out

    def instructions(self, text: str) -> list[str]:
        """``feed``, split into single instructions."""
        return split(self.feed(text))


def split(text: str) -> list[str]:
    """Whole instructions of ``text`` (which holds only whole instructions), one by one."""
    out: list[str] = []
    start = pos = 0
    size = len(text)
    while pos < size:
        dot = text.find(".", pos)
        end = dot + 1 + int(text[pos:dot])
        pos = end + 1
        if text[end] == ";":
            out.append(text[start:pos])
            start = pos
    return out


__all__ = [
    "MAX_INSTRUCTION",
    "InstructionScanner",
    "WireError",
    "encode",
    "parse",
    "scan",
    "split",
]
