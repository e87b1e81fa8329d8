"""HTTP listeners: one Starlette app per named listener, served by hypercorn on the shared loop.

Listeners are created and bound before adapters start (so a taken port fails fast and names the
port), adapters mount routes on them, then `serve()` starts accepting. Unknown routes answer 404
with a JSON body; an exception in an endpoint answers 500 JSON and is logged (the process stays up).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Sequence

from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config, Sockets
from hypercorn.utils import wrap_app
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.errors import Unavailable
from gateway.ports import HttpEndpoint

log = logging.getLogger("gateway.http")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal error"}, status_code=500)


class HttpListener:
    """A named HTTP listener (`ingress`, `admin`, `functions`, `metrics`): its app and its socket."""

    def __init__(self, name: str, host: str, port: int, *, graceful_timeout: float = 5.0) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.app = Starlette(exception_handlers={HTTPException: _http_error, Exception: _internal_error})
        self._config = Config()
        self._config.bind = [f"{host}:{port}"]
        self._config.graceful_timeout = graceful_timeout
        self._config.accesslog = None
        # Hypercorn's own "Running on ..." lines would repeat what the start-up line says.
        self._config.errorlog = logging.getLogger("hypercorn.error")
        self._sockets: Sockets | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def add_route(self, path: str, endpoint: HttpEndpoint, methods: Sequence[str] | None = None) -> None:
        # Starlette looks routes up per request, so appending before (or even after) serving works.
        self.app.router.routes.append(Route(path, endpoint, methods=list(methods) if methods else None))

    def bind(self) -> None:
        """Bind the socket now; raises Unavailable naming the port if it is taken."""
        try:
            self._sockets = self._config.create_sockets()
        except OSError as exc:
            raise Unavailable(
                f"cannot listen on {self.host}:{self.port} ({self.name} HTTP listener): {exc.strerror}"
            ) from None
        sock: socket.socket = self._sockets.insecure_sockets[0]
        self.port = sock.getsockname()[1]

    def start(self) -> None:
        """Start serving on the bound socket (in a task on the running loop)."""
        assert self._sockets is not None, "bind() first"
        app = wrap_app(self.app, self._config.wsgi_max_body_size, "asgi")  # type: ignore[arg-type]
        self._task = asyncio.create_task(
            worker_serve(app, self._config, sockets=self._sockets, shutdown_trigger=self._stop.wait),
            name=f"http-{self.name}",
        )

    async def stop(self) -> None:
        """Stop accepting; requests in flight get the graceful timeout."""
        self._stop.set()
        if self._task is not None:
            try:
                await self._task
            except Exception:
                log.exception("HTTP listener %s stopped with an error", self.name)
            self._task = None
        elif self._sockets is not None:
            for sock in self._sockets.insecure_sockets:
                sock.close()
        self._sockets = None
