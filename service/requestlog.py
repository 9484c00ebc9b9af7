"""``RequestLog``: a request id on every request and one log line per error.

The outermost of the service's middlewares (pure ASGI). Each request gets an id (the client's
``X-Request-ID`` when it is a plain token, else a new one), returned in the ``X-Request-ID`` header.
Every 4xx and 5xx answer is logged as one line with that id, the status and the error code and
message of the JSON body. An exception no handler expected is a bug: its traceback is logged once,
here, and the client gets the service's JSON 500; it is not re-raised, so the server does not log
it again.
"""

from __future__ import annotations

import json
import logging
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response

logger = logging.getLogger("service.requests")

__all__ = ["REQUEST_ID_HEADER", "RequestLog"]

REQUEST_ID_HEADER = "x-request-id"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_MAX_LOGGED_BODY = 16 * 1024


def request_id(scope: Scope) -> str:
    """The client's ``X-Request-ID`` when it is a plain token of at most 64 characters, else a new id."""
    for key, value in scope.get("headers", ()):
        if key == REQUEST_ID_HEADER.encode():
            text = value.decode("latin-1")
            if _CLIENT_ID.match(text):
                return text
    return uuid.uuid4().hex[:16]


def _error_of(body: bytes) -> str:
    """``code: message`` of the service's error body (or a note that the body is not one)."""
    try:
        error = json.loads(body)["error"]
        return f"{error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return "(no error body)"


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid
        status = 0
        body = bytearray()
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER.encode(), rid.encode())]
            elif message["type"] == "http.response.body" and status >= 400 and len(body) < _MAX_LOGGED_BODY:
                body.extend(message.get("body", b"")[:_MAX_LOGGED_BODY])
            await send(message)

        where = f"{scope['method']} {scope['path']}"
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("request %s %s: unexpected error (a bug)", rid, where)
            if not started:
                await error_response(500, "internal_error",
                                     f"internal error (request {rid}); the server log has the details")(
                    scope, receive, send_with_id)
            return
        if status >= 500:
            logger.error("request %s %s -> %d %s", rid, where, status, _error_of(bytes(body)))
        elif status >= 400:
            logger.info("request %s %s -> %d %s", rid, where, status, _error_of(bytes(body)))
