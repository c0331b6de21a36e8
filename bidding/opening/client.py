"""A Python client of the opening hall's websocket, for bidders who automate (as bidding/client/
does for submission), the multi-process test and the broadcast-latency bench.

It speaks docs/opening-hall.md's messages and authenticates with the platform's session cookie.
The websocket itself (RFC 6455: handshake, masked client frames, ping/pong, close) is written out
on asyncio streams: the hall's messages are small JSON texts, and a process that also hosts Twisted
(Daphne, autobahn) has txaio bound to Twisted, where autobahn's asyncio client cannot load. Every
message is time-stamped on arrival, before it is parsed, so latency figures exclude the client's
own JSON work.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import struct
import time
from collections.abc import Callable
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 1, 2, 0, 8, 9, 10


class HallClosed(Exception):
    """The server closed (`code` 4401 not logged in, 4403 no place, 4404 no such lot) or refused the
    handshake (`code` the HTTP status: a hall refusing before it accepts answers 403)."""

    def __init__(self, code):
        super().__init__(f"hall socket closed ({code})")
        self.code = code


def _frame(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    # Client frames are masked (RFC 6455 §5.3); the hall's client messages are small.
    return head + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(payload))


class HallClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._reader = reader
        self._writer = writer
        self._inbox: asyncio.Queue = asyncio.Queue()
        self.close_code: int | None = None
        self.received_at: float | None = None  # perf_counter() when the last returned message arrived
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, *, base_url: str, lot_id: int, cookie: str, timeout: float = 30) -> HallClient:
        """`base_url` like http://127.0.0.1:8000; `cookie` the `Cookie` header (sessionid=...)."""
        parts = urlsplit(base_url)
        secure = parts.scheme == "https"
        port = parts.port or (443 if secure else 80)
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, port, ssl=True if secure else None, limit=1 << 24),
            timeout=timeout,
        )
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /ws/opening/{int(lot_id)}/ HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                f"Sec-WebSocket-Key: {key}\r\nOrigin: {parts.scheme}://{parts.netloc}\r\nCookie: {cookie}\r\n\r\n"
            ).encode("latin-1")
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=timeout)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()  # noqa: S324 - RFC 6455
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
        }
        if status != 101 or headers.get("sec-websocket-accept") != accept:
            writer.close()
            raise HallClosed(status)
        return cls(reader, writer)

    async def _read(self) -> None:
        parts: list[bytes] = []
        try:
            while True:
                b0, b1 = await self._reader.readexactly(2)
                n = b1 & 0x7F
                if n == 126:
                    (n,) = struct.unpack("!H", await self._reader.readexactly(2))
                elif n == 127:
                    (n,) = struct.unpack("!Q", await self._reader.readexactly(8))
                data = await self._reader.readexactly(n)
                opcode = b0 & 0x0F
                if opcode == PING:
                    self._writer.write(_frame(PONG, data))
                elif opcode == CLOSE:
                    self.close_code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                    self._writer.write(_frame(CLOSE, data[:2]))
                    break
                elif opcode in (TEXT, BINARY, CONTINUATION):
                    parts.append(data)
                    if b0 & 0x80:  # FIN
                        self._inbox.put_nowait((time.perf_counter(), b"".join(parts)))
                        parts = []
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close_code = self.close_code or 1006
        finally:
            self._inbox.put_nowait((time.perf_counter(), None))

    async def send(self, message: dict) -> None:
        self._writer.write(_frame(TEXT, json.dumps(message).encode()))
        await self._writer.drain()

    async def receive(self, timeout: float = 10) -> dict:
        at, payload = await asyncio.wait_for(self._inbox.get(), timeout=timeout)
        if payload is None:
            self._inbox.put_nowait((at, None))  # stays closed for every later call
            raise HallClosed(self.close_code)
        self.received_at = at
        return json.loads(payload)

    async def receive_until(self, predicate: Callable[[dict], bool], timeout: float = 10) -> dict:
        """The first message that satisfies `predicate`; earlier ones are dropped."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            message = await self.receive(timeout=max(0.001, end - loop.time()))
            if predicate(message):
                return message

    async def request(self, message: dict, timeout: float = 30) -> dict:
        """Send a message with an id and return the server's answer to it (ok, error, state, tock)."""
        rid = message.setdefault("id", id(message))
        await self.send(message)
        return await self.receive_until(lambda m: m.get("reply_to") == rid, timeout=timeout)

    async def close(self) -> None:
        if not self._writer.is_closing():
            self._writer.write(_frame(CLOSE, struct.pack("!H", 1000)))
            try:
                await asyncio.wait_for(self._task, timeout=5)
            except TimeoutError:
                self._task.cancel()
            self._writer.close()
