"""Request bodies of the write endpoints: read whole, inflated here, size-limited.

The collector's server does not inflate bodies itself (``auto_decompress=False``): a body that
claims ``Content-Encoding: gzip`` and is not gzip would then fail inside the HTTP server, after
the answer, with a traceback in the log. Here it is a 400 that says what is wrong, and the
``collector.max_body_bytes`` limit applies to the inflated size as it grows, so a small body
that inflates to gigabytes is refused early (413).

Example:
    >>> import gzip
    >>> inflate(gzip.compress(b"m v=1"), "gzip", limit=1024)
    b'm v=1'
    >>> inflate(b"m v=1", "gzip", limit=1024)
    Traceback (most recent call last):
    ...
    streams.collector.bodies.BodyError: body is not gzip: Error -3 while decompressing data: \
incorrect header check
"""

from __future__ import annotations

import zlib

from aiohttp import web

from streams.errors import PulselineError

LINE_PROTOCOL_ENCODINGS = ("identity", "gzip", "deflate")
"""Content encodings of line-protocol bodies."""
REMOTE_WRITE_ENCODINGS = ("snappy",)
"""Remote write bodies are snappy blocks, decompressed by the decoder."""
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_CHUNK = 1 << 20


class BodyError(PulselineError):
    """A request body cannot be read.

    Attributes:
        status: the HTTP status to answer: 400, 413 or 415.
    """

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def read_body(request: web.Request, limit: int, encodings: tuple[str, ...]) -> bytes:
    """The request body, inflated, refused unless its Content-Encoding is one of ``encodings``.

    A missing header means the first of ``encodings``. ``gzip`` and ``deflate`` (zlib, or raw
    deflate as some clients send) are inflated here; other encodings are the caller's.

    Raises:
        BodyError: 415 for an encoding not in ``encodings``, 413 for a body larger than
            ``limit`` bytes (inflated), 400 for one that is not what its encoding says.
    """
    encoding = request.headers.get("Content-Encoding", "").strip().lower() or encodings[0]
    if encoding not in encodings:
        raise BodyError(f"Content-Encoding {encoding!r}: use one of {list(encodings)}", status=415)
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise BodyError(f"body is larger than {limit} bytes", status=413) from None
    if encoding in _WBITS:
        return inflate(body, encoding, limit=limit)
    return body


def inflate(body: bytes, encoding: str, *, limit: int) -> bytes:
    """Inflate a ``gzip`` or ``deflate`` body, refusing it once it passes ``limit`` bytes.

    Concatenated gzip members are read one after the other, as ``gunzip`` does.

    Raises:
        BodyError: 413 past ``limit``; 400 when the body is not of ``encoding`` or is cut short.
    """
    wbits = _WBITS[encoding]
    out = bytearray()
    rest = body
    while True:
        decompressor = zlib.decompressobj(wbits)
        try:
            while rest:
                out += decompressor.decompress(rest, _CHUNK)
                if len(out) > limit:
                    raise BodyError(
                        f"body is larger than {limit} bytes after inflating {encoding}", status=413
                    )
                rest = decompressor.unconsumed_tail
            out += decompressor.flush()
        except zlib.error as exc:
            if encoding == "deflate" and wbits > 0 and not out:
                wbits, rest = -zlib.MAX_WBITS, body  # raw deflate, without the zlib header
                continue
            raise BodyError(f"body is not {encoding}: {exc}") from None
        if not decompressor.eof:
            raise BodyError(f"{encoding} body is cut short (no end of stream)")
        rest = decompressor.unused_data
        if not rest:
            break
        if encoding != "gzip":
            raise BodyError(f"{len(rest)} bytes of trailing data after the {encoding} stream")
    if len(out) > limit:
        raise BodyError(f"body is larger than {limit} bytes after inflating {encoding}", status=413)
    return bytes(out)
