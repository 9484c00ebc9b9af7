"""``RequestGate``: the checks that must happen before a request body is parsed.

A pure ASGI middleware, so a refused request costs no parsing: the API key (when keys are set),
the content type of each POST endpoint, and the body size (Content-Length first, then the bytes
as they arrive, never more than the limit held in memory).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import Settings
from .deps import check_key
from .errors import ApiError, error_response

__all__ = ["CONTENT_TYPES", "RequestGate"]

JSON = "application/json"
MULTIPART = "multipart/form-data"
# The media type each POST endpoint takes.
CONTENT_TYPES = {
    "/v1/suggest": JSON,
    "/v1/suggest/xlsx": MULTIPART,
    "/v1/sheets": MULTIPART,
    "/v1/fill": MULTIPART,
    "/v1/check": MULTIPART,
}
MULTIPART_SLACK = 64 * 1024  # form fields and part headers around an upload of the largest size
PUBLIC = ("/v1/info",)


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


class RequestGate:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.max_bytes = settings.max_upload_bytes + MULTIPART_SLACK

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/") or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        try:
            if scope["path"] not in PUBLIC:
                check_key(self.settings, headers.get("authorization"))
            if scope["method"] != "POST":
                await self.app(scope, receive, send)
                return
            expected = CONTENT_TYPES.get(scope["path"])
            given = _media_type(headers.get("content-type", ""))
            if expected is not None and not (given == expected or (expected == JSON and given.endswith("+json"))):
                raise ApiError(415, "unsupported_media_type",
                               f"{scope['path']} takes {expected}, not {given or 'a body without a content type'}")
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
                raise ApiError(413, "too_large", f"the body is over the limit of {self.settings.max_upload_bytes} bytes")
            body = await self._read(receive)
        except ApiError as exc:
            await error_response(exc.status, exc.code, exc.message, exc.headers)(scope, receive, send)
            return
        if body is None:  # the client went away
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise ApiError(413, "too_large", f"the body is over the limit of {self.settings.max_upload_bytes} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
