"""uvicorn's HTTP/1.1 protocol with deadlines for slow clients and a cap on connections per client address.

    uvicorn --factory service.app:create_app --http service.protocol:GuardedProtocol
    uvicorn.run("service.app:create_app", factory=True, http="service.protocol:GuardedProtocol")

uvicorn has no read timeout: a client that opens a connection and sends its headers (or its body) a
byte at a time, or not at all, holds the connection forever. ``GuardedProtocol`` closes it:

- the request line and headers must arrive within ``header_timeout_s``, counted from the connection's
  opening for its first request and from a request's first byte for the ones after it (the wait
  between requests is uvicorn's ``--timeout-keep-alive``);
- once the headers are in, the body may pause at most ``body_idle_timeout_s`` between chunks and must
  be complete within ``body_timeout_s``;
- an address may hold ``max_connections_per_client`` connections; one more is answered 429
  ``too_many_connections`` and closed at once.

A timed-out request that has not been answered gets 408 ``request_timeout`` (the service's JSON error
body, ``Connection: close``); a connection that never sent a byte is closed without a word. Time
during which the server itself stopped reading (uvicorn's flow control, a pipelined request waiting
for the one before, an ``Expect: 100-continue`` body not yet asked for) is not counted. The limits come
from ``Settings()`` (``SPREADSHEETCODER_*``), read once per process; the connection count is per
worker process, and behind a reverse proxy every connection comes from the proxy's address.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import h11
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from .config import Settings

logger = logging.getLogger(__name__)

__all__ = ["GuardLimits", "GuardedH11Protocol", "GuardedProtocol", "guard_limits"]

# Where a connection's current request is. WAITING: not one byte of the connection's first request yet.
WAITING, HEADERS, BODY, DONE, CLOSED = "waiting", "headers", "body", "done", "closed"
# A timer may fire this much before its deadline (the loop's clock resolution); it then counts as due.
EARLY_S = 0.001


@dataclass(frozen=True)
class GuardLimits:
    """The deadlines (seconds) and the connection cap one ``GuardedProtocol`` enforces."""

    header_timeout_s: float
    body_idle_timeout_s: float
    body_timeout_s: float
    max_connections_per_client: int

    @classmethod
    def from_settings(cls, settings: Settings) -> GuardLimits:
        return cls(settings.header_timeout_s, settings.body_idle_timeout_s, settings.body_timeout_s,
                   settings.max_connections_per_client)


@functools.cache
def guard_limits() -> GuardLimits:
    """This process's limits, read from the environment when the first connection opens."""
    return GuardLimits.from_settings(Settings())


# Open connections per client host, per uvicorn server (a process may run several, as tests do).
_OPEN: weakref.WeakKeyDictionary[ServerState, Counter[str]] = weakref.WeakKeyDictionary()


class _Cycle(Protocol):
    """What the guard reads and sets on uvicorn's RequestResponseCycle (same in both implementations)."""

    response_started: bool
    response_complete: bool
    disconnected: bool
    waiting_for_100_continue: bool
    message_event: asyncio.Event


class _GuardedFlowControl(FlowControl):
    """uvicorn's FlowControl, telling the guard when the server stops and starts reading."""

    def __init__(self, transport: asyncio.Transport, on_reading: Callable[[bool], None]) -> None:
        super().__init__(transport)
        self._on_reading = on_reading

    def pause_reading(self) -> None:
        if not self.read_paused:
            super().pause_reading()
            self._on_reading(False)

    def resume_reading(self) -> None:
        if self.read_paused:
            super().resume_reading()
            self._on_reading(True)


def _error_response(status: bytes, code: str, message: str, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    lines = [b"HTTP/1.1 " + status]
    lines += [name + b": " + value for name, value in default_headers]
    lines += [b"content-type: application/json", b"content-length: %d" % len(body), b"connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class _ConnectionGuard(asyncio.Protocol):
    """The deadlines and the per-client count, mixed in before one of uvicorn's HTTP protocols.

    The parser-specific subclass reports a request's progress through ``_request_started``,
    ``_headers_done`` and ``_message_done``. One timer per connection is armed at the nearest
    deadline; when it fires it recomputes the deadline from the connection's state at that moment,
    so a timer armed for an earlier request (or before more body arrived) never closes the connection
    early: it re-arms itself, or does nothing once the request has been read.
    """

    # Set by uvicorn's protocols (same types in both).
    transport: asyncio.Transport
    flow: FlowControl
    loop: asyncio.AbstractEventLoop
    client: tuple[str, int] | None
    server_state: ServerState

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = guard_limits()
        self._phase = WAITING
        self._timer: asyncio.TimerHandle | None = None
        self._host: str | None = None  # set while this connection is counted against its host
        self._headers_from = self._body_from = self._body_last = 0.0
        self._paused_at: float | None = None
        # Requests whose headers were read and whose responses are not complete, oldest first: with
        # pipelining, uvicorn's ``cycle`` is only the newest of them.
        self._cycles: list[_Cycle] = []

    def _current_cycle(self) -> _Cycle | None:  # pragma: no cover - each concrete protocol below says
        """The request uvicorn is reading now: ``GuardedH11Protocol`` and ``GuardedHttpToolsProtocol``
        each say where their uvicorn class keeps it."""
        raise NotImplementedError

    def _unanswered(self) -> list[_Cycle]:
        self._cycles = [cycle for cycle in self._cycles if not cycle.response_complete]
        return self._cycles

    def _disconnect_all(self) -> None:
        """Every unanswered request's app sees http.disconnect, and its send() becomes a no-op
        (uvicorn marks only the newest; on uvloop a write to the closed transport would raise)."""
        for cycle in self._unanswered():
            cycle.disconnected = True
            cycle.message_event.set()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.flow = _GuardedFlowControl(self.transport, self._reading_changed)
        self._headers_from = self.loop.time()
        host = self.client[0] if self.client else None  # None: a unix socket, nothing to count by
        if host is not None:
            counts = _OPEN.setdefault(self.server_state, Counter())
            if counts[host] >= self._limits.max_connections_per_client:
                self._refuse(counts[host])
                return
            counts[host] += 1
            self._host = host
        self._schedule()

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        self._disconnect_all()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._phase == CLOSED:
            return
        if self._phase == BODY:
            self._body_last = self.loop.time()
        super().data_received(data)
        self._schedule()

    # Progress of the current request, reported by the parser-specific subclass.

    def _request_started(self) -> None:
        if self._phase == WAITING:  # the first request's clock started when the connection opened
            self._phase = HEADERS
        elif self._phase in (BODY, DONE):
            self._phase = HEADERS
            self._headers_from = self.loop.time()

    def _headers_done(self) -> None:
        if self._phase != CLOSED:
            self._phase = BODY
            self._body_from = self._body_last = self.loop.time()
            cycle = self._current_cycle()
            if cycle is not None and all(cycle is not seen for seen in self._unanswered()):
                self._cycles.append(cycle)

    def _message_done(self) -> None:
        if self._phase != CLOSED:
            self._phase = DONE

    # Deadlines

    def _deadline(self) -> tuple[float, str] | None:
        """When the current request is late, and why; None while no bytes are owed."""
        limits = self._limits
        if self._phase in (WAITING, HEADERS):
            return (self._headers_from + limits.header_timeout_s,
                    f"the request line and headers did not arrive within {limits.header_timeout_s:g} s")
        if self._phase == BODY:
            total = self._body_from + limits.body_timeout_s
            idle = self._body_last + limits.body_idle_timeout_s
            if total <= idle:
                return total, f"the request body did not arrive within {limits.body_timeout_s:g} s"
            return idle, f"the request body stalled for more than {limits.body_idle_timeout_s:g} s"
        return None

    def _schedule(self) -> None:
        deadline = self._deadline()
        if deadline is None or self.transport.is_closing():
            self._cancel_timer()
        elif self._timer is None or self._timer.when() > deadline[0]:
            self._cancel_timer()
            self._timer = self.loop.call_at(deadline[0], self._on_timer)
        # else: the armed timer fires sooner and re-arms itself for the later deadline

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        if self._phase == CLOSED or self.transport.is_closing() or self.flow.read_paused:
            return  # a paused connection is re-armed when reading resumes
        cycle = self._current_cycle()
        now = self.loop.time()
        if self._phase == BODY and cycle is not None and cycle.waiting_for_100_continue:
            self._body_from = self._body_last = now  # the client waits for our "100 Continue"
        deadline = self._deadline()
        if deadline is None:
            return
        if now < deadline[0] - EARLY_S:
            self._schedule()
            return
        self._expire(deadline[1], cycle)

    def _reading_changed(self, reading: bool) -> None:
        now = self.loop.time()
        if not reading:
            self._paused_at = now
        elif self._paused_at is not None:
            # the client could not send while we did not read: shift its clocks by the pause
            paused = now - self._paused_at
            self._paused_at = None
            self._headers_from += paused
            self._body_from += paused
            self._body_last += paused
            if self._phase != CLOSED:
                self._schedule()

    # Closing

    def _expire(self, reason: str, cycle: _Cycle | None) -> None:
        # A 408 goes out only if no response is due before it (pipelining) and the late request was
        # not answered already (an app may reply before reading a body).
        late = cycle if self._phase == BODY else None
        answer = (self._phase != WAITING and not (late is not None and late.response_started)
                  and all(unanswered is late for unanswered in self._unanswered()))
        self._disconnect_all()
        if answer:
            self.transport.write(_error_response(b"408 Request Timeout", "request_timeout", reason,
                                                 self.server_state.default_headers))
        logger.warning("%s: closed the connection: %s%s", self._peer(), reason, " (408)" if answer else "")
        self._phase = CLOSED
        self.transport.close()

    def _refuse(self, open_now: int) -> None:
        limit = self._limits.max_connections_per_client
        message = f"too many open connections from this address (at most {limit}); close some and retry"
        self.transport.write(_error_response(b"429 Too Many Requests", "too_many_connections", message,
                                             [*self.server_state.default_headers, (b"retry-after", b"1")]))
        logger.warning("%s: refused the connection: %d open, at most %d", self._peer(), open_now, limit)
        self._phase = CLOSED
        self.transport.close()

    def _release(self) -> None:
        """Stop the timer and uncount the connection; safe to call more than once."""
        self._phase = CLOSED
        self._cancel_timer()
        if self._host is not None:
            counts = _OPEN.get(self.server_state)
            if counts is not None:
                counts[self._host] -= 1
                if counts[self._host] <= 0:
                    del counts[self._host]
            self._host = None

    def _peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "unix socket"


class GuardedH11Protocol(_ConnectionGuard, H11Protocol):
    """``H11Protocol`` with the guard; h11 tells a request's progress through its state after each event."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen_cycle: object = None

    def _current_cycle(self) -> _Cycle | None:
        return self.cycle

    def handle_events(self) -> None:
        super().handle_events()
        if self._phase == CLOSED:
            return
        if self.cycle is not None and self.cycle is not self._seen_cycle:  # the headers of a new request
            self._seen_cycle = self.cycle
            self._request_started()
            self._headers_done()
        state = self.conn.their_state
        if state in (h11.DONE, h11.MUST_CLOSE):
            if self._phase == BODY:
                self._message_done()
        elif state is h11.IDLE and self._phase in (WAITING, DONE) and self.conn.trailing_data[0]:
            self._request_started()
        self._schedule()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._release()  # the websocket protocol owns the connection from here
        super().handle_websocket_upgrade(event)


GuardedProtocol: type[_ConnectionGuard]

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is optional (uvicorn[standard]); h11 always comes with uvicorn
    GuardedProtocol = GuardedH11Protocol
else:

    class GuardedHttpToolsProtocol(_ConnectionGuard, HttpToolsProtocol):
        """``HttpToolsProtocol`` with the guard; llhttp's callbacks tell a request's progress."""

        def _current_cycle(self) -> _Cycle | None:
            return self.cycle

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._request_started()

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._headers_done()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._message_done()

        def handle_websocket_upgrade(self) -> None:
            self._release()  # the websocket protocol owns the connection from here
            super().handle_websocket_upgrade()

    GuardedProtocol = GuardedHttpToolsProtocol
    __all__ += ["GuardedHttpToolsProtocol"]
