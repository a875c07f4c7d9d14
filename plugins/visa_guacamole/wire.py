"""The Guacamole wire format: ``LEN.VALUE`` elements, ``,``-separated, ``;``-terminated.

Lengths count Unicode code points. :class:`InstructionScanner` finds whole instructions in a
stream without copying their elements (a relay forwards them verbatim); :func:`parse` splits one
instruction into its elements.
"""

from __future__ import annotations

import codecs

#: A single instruction may not be longer than this (guacd's own limit is 8 KiB per element
#: for most instructions; image blobs come in 6 KiB pieces).
MAX_INSTRUCTION = 1024 * 1024


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


class InstructionScanner:
    """Cuts a text stream at instruction boundaries: ``feed`` returns whole instructions only."""

    def __init__(self, max_instruction: int = MAX_INSTRUCTION) -> None:
        self._buffer = ""
        self._scan = 0  # where the next element of the unfinished instruction starts
        self._max = max_instruction

    @property
    def pending(self) -> int:
        """Characters of an unfinished instruction held back."""
        return len(self._buffer)

    def feed(self, text: str) -> str:
        """The complete instructions now available (maybe several, maybe none: ``""``)."""
        buffer = self._buffer + text if self._buffer else text
        scan = self._scan
        complete = 0
        size = len(buffer)
        while True:
            dot = buffer.find(".", scan, scan + 12)
            if dot < 0:
                rest = buffer[scan : scan + 12]
                if len(rest) >= 12 or (rest and not rest.isdigit()):
                    raise WireError(f"bad element length {rest!r}")
                break
            digits = buffer[scan:dot]
            if not digits.isdigit():
                raise WireError(f"bad element length {digits!r}")
            end = dot + 1 + int(digits)
            if end >= size:
                break
            terminator = buffer[end]
            scan = end + 1
            if terminator == ";":
                complete = scan
            elif terminator != ",":
                raise WireError(f"bad element terminator {terminator!r}")
        out = buffer[:complete]
        self._buffer = buffer[complete:]
        self._scan = scan - complete
        if len(self._buffer) > self._max:
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


class Utf8Decoder:
    """Decodes a TCP byte stream without splitting code points."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def decode(self, data: bytes) -> str:
        try:
            return self._decoder.decode(data)
        except UnicodeDecodeError as exc:
            raise WireError(f"not UTF-8: {exc}") from exc


__all__ = [
    "MAX_INSTRUCTION",
    "InstructionScanner",
    "Utf8Decoder",
    "WireError",
    "encode",
    "parse",
    "split",
]
