"""HTTP/1.1 request bodies: incremental chunked decoding and bounded gzip inflation."""

from __future__ import annotations

import re
import zlib

from server.http.parsing import HttpError, body_too_large

_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,15}")
_MAX_CHUNK_LINE = 4096
_MAX_TRAILER_BYTES = 64 * 1024
_INFLATE_CHUNK = 1024 * 1024


class ChunkedDecoder:
    """Decodes a chunked request body as it arrives, refusing it once it passes a limit."""

    __slots__ = ("_parts", "_size", "_remaining", "_state", "_limit", "_trailer_bytes")

    _SIZE_LINE, _DATA, _DATA_END, _TRAILER = range(4)

    def __init__(self, limit: int) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self._remaining = 0
        self._state = self._SIZE_LINE
        self._limit = limit
        self._trailer_bytes = 0

    def feed(self, buf: bytearray) -> bytes | None:
        """Consume what it can from ``buf``; return the body once the final chunk is in.

        Raises:
            HttpError: 400 for malformed framing, 413 once the body passes the limit, 431
                for trailers over 64 KiB.
        """
        while True:
            state = self._state
            if state == self._DATA:
                if not buf:
                    return None
                take = min(self._remaining, len(buf))
                if take == len(buf):
                    self._parts.append(bytes(buf))
                    buf.clear()
                else:
                    self._parts.append(bytes(buf[:take]))
                    del buf[:take]
                self._remaining -= take
                if not self._remaining:
                    self._state = self._DATA_END
            elif state == self._DATA_END:
                if len(buf) < 2:
                    return None
                if not buf.startswith(b"\r\n"):
                    raise HttpError(400)
                del buf[:2]
                self._state = self._SIZE_LINE
            else:
                end = buf.find(b"\r\n")
                if end < 0:
                    if len(buf) > _MAX_CHUNK_LINE:
                        raise HttpError(400)
                    return None
                line = bytes(buf[:end])
                del buf[: end + 2]
                if state == self._TRAILER:
                    if not line:
                        return b"".join(self._parts)
                    self._trailer_bytes += end + 2
                    if self._trailer_bytes > _MAX_TRAILER_BYTES:
                        raise HttpError(431)
                    continue
                self._start_chunk(line)

    def _start_chunk(self, line: bytes) -> None:
        size_text = line.split(b";", 1)[0].strip()
        if _CHUNK_SIZE.fullmatch(size_text) is None:
            raise HttpError(400)
        size = int(size_text, 16)
        if not size:
            self._state = self._TRAILER
            return
        self._size += size
        if self._size > self._limit:
            raise body_too_large(self._size, self._limit, at_least=True)
        self._remaining = size
        self._state = self._DATA


class GzipBodyError(Exception):
    """A gzip request body that is corrupt or inflates past the configured limit."""


def gunzip_body(data: bytes, limit: int) -> bytes:
    """Inflate a gzip body a chunk at a time, refusing it as soon as it passes ``limit`` bytes.

    A bomb costs at most about ``limit`` bytes of memory before it is refused; one call
    inflating to ``limit`` would have zlib grow (and copy) its output buffer on the way.

    Raises:
        GzipBodyError: the data is not valid gzip or inflates past ``limit`` bytes.
    """
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    parts: list[bytes] = []
    size = 0
    pending = data
    try:
        while not inflater.eof:
            chunk = inflater.decompress(pending, _INFLATE_CHUNK)
            pending = inflater.unconsumed_tail
            if not chunk and not pending:
                break  # zlib wants more input than the body has
            size += len(chunk)
            if size > limit:
                raise GzipBodyError(f"Decompressed request body exceeds the limit of {limit} bytes")
            parts.append(chunk)
    except zlib.error as err:
        raise GzipBodyError(f"Failed to decompress the gzip request body: {err}") from err
    if not inflater.eof:
        raise GzipBodyError("Failed to decompress the gzip request body: truncated data")
    return parts[0] if len(parts) == 1 else b"".join(parts)
