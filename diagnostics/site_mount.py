"""The built help site at ``/``, leaving every path the service owns to the service.

A mount at ``/`` matches every path, and Starlette takes the first full match over a route that
matched only the path (wrong method). So the site must not match a path the service owns: then the
router answers a known path with the wrong method with the service's 405, whose ``Allow`` names the
methods of every route for that path (``PUT /saml/acs`` gets ``Allow: GET, POST``, not the file
server's ``GET, HEAD``; see ``diagnostics.allow``), through the one error handler in
``diagnostics.security``. Owned are ``/api/...`` (an unknown API path gets the API's JSON 404, not
the site's HTML 404) and every path a service route before the mount matches with any method; that
set comes from the app's own route list at request time, so a new route is covered without a list here.

The files are served as a CDN would (``SiteFiles``), so that a first visit of the start page is small
and a second one fetches only the HTML:

* text files (html, css, js, svg, json, xml, txt, source maps) in brotli or gzip, whichever the
  browser accepts (brotli first), with ``Vary: Accept-Encoding``. Each file is read and each encoding
  made once per process, on first use, and kept in memory; a changed file (other inode, mtime or
  size) is read again, so a rebuilt site is served without a restart;
* Material's hashed assets (``assets/javascripts/bundle.<8 hex>.min.js``,
  ``assets/stylesheets/main.<8 hex>.min.css``, ...) are ``immutable`` for a year: a new theme
  version has a new name. Nothing else is, because nothing else changes its name when it changes;
* HTML must be revalidated on every visit (``no-cache``), other files are fresh for a few minutes;
  all carry a strong ETag (a hash of the content, one per encoding) and get ``304 Not Modified``
  for a matching ``If-None-Match``.

The security headers (CSP and the rest) are added to every answer, the 304s too, by the middleware.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import mimetypes
import os
import re
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import anyio
from anyio import to_thread
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from diagnostics.errors import is_api_path

# Cache-Control per kind of file. HTML names the assets, so it is checked on every visit (a 304 is a
# few hundred bytes); unhashed assets keep their name when they change, so they stay fresh for
# minutes only, and after that a revalidation is a 304 as well.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
SHORT = "public, max-age=600"

# Compressed when asked for: the text formats. Images (png, ico) and fonts (woff2) are compressed already.
COMPRESSIBLE = frozenset({".html", ".css", ".js", ".mjs", ".svg", ".json", ".xml", ".txt", ".map"})

# Material's build names its bundles after a hash of their content: bundle.a5f9d56c.min.js,
# main.57a0d79d.min.css, palette.fb2fffe2.min.css, workers/search.a7633da7.min.js (and their maps).
# Only that pattern in Material's own asset folders counts; the project's card.js or lunr.nl.min.js
# keep their names from version to version and are not immutable.
HASHED_ASSET = re.compile(
    r"assets/(?:javascripts|stylesheets)/(?:[\w-]+/)*[\w-]+\.[0-9a-f]{8}\.min\.(?:js|css)(?:\.map)?"
)

# Files above this size are streamed from disk as before (no compression), not held in memory.
MAX_CACHED_BYTES = 8 * 1024 * 1024


def _gzip(data: bytes) -> bytes:
    # mtime=0: the same bytes in every worker, so one strong ETag per encoding holds for all of them.
    return gzip.compress(data, compresslevel=9, mtime=0)


def _encoders() -> dict[str, Callable[[bytes], bytes]]:
    """The content codings this process can make, in order of preference."""
    encoders: dict[str, Callable[[bytes], bytes]] = {}
    try:
        brotli = importlib.import_module("brotli")
    except ImportError:  # optional: without it every browser gets gzip
        pass
    else:
        # Quality 11 costs ~0.2 s for Material's bundle, once per process; it is ~10% smaller than gzip.
        encoders["br"] = lambda data: bytes(brotli.compress(data, quality=11))
    encoders["gzip"] = _gzip
    return encoders


ENCODERS = _encoders()


def choose_encoding(accept_encoding: str, available: Sequence[str]) -> str | None:
    """The coding of ``available`` (in order of preference) the client accepts best; None for identity.

    A coding is accepted with its q-value, or the q-value of ``*``; q=0 refuses it.
    """
    qualities: dict[str, float] = {}
    for part in accept_encoding.split(","):
        coding, *parameters = (piece.strip() for piece in part.split(";"))
        coding = coding.lower()
        if coding == "x-gzip":
            coding = "gzip"
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if coding:
            qualities[coding] = quality
    best: str | None = None
    best_quality = 0.0
    for coding in available:
        quality = qualities.get(coding, qualities.get("*", 0.0))
        if quality > best_quality:
            best, best_quality = coding, quality
    return best


def cache_control(relative_path: str, status_code: int = 200) -> str:
    """The Cache-Control for a file of the site (``relative_path`` with ``/``, from the site's root)."""
    if status_code == 200 and HASHED_ASSET.fullmatch(relative_path):
        return IMMUTABLE
    if status_code != 200 or relative_path.endswith(".html"):
        return REVALIDATE
    return SHORT


def _media_type(path: str) -> str:
    media_type, encoding = mimetypes.guess_type(path)
    if encoding is not None:
        # sitemap.xml.gz is a gzip file, not XML (Starlette would say text/xml without Content-Encoding).
        return "application/gzip" if encoding == "gzip" else "application/octet-stream"
    return media_type or "text/plain"


@dataclass
class _File:
    """One file's bytes as read, their tag, and each encoding once it was asked for."""

    version: Hashable
    data: bytes
    digest: str
    # coding -> encoded bytes; None when the encoding is not smaller than the file itself
    encoded: dict[str, bytes | None] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str) -> _File:
        with open(path, "rb") as handle:
            # The version of the bytes read, even if the file changed after the router's stat.
            version = _version(os.fstat(handle.fileno()))
            data = handle.read()
        return cls(version, data, hashlib.sha256(data).hexdigest()[:32])

    def etag(self, coding: str | None) -> str:
        return f'"{self.digest}-{coding}"' if coding else f'"{self.digest}"'

    def etags(self) -> set[str]:
        return {self.etag(coding) for coding in (None, *ENCODERS)}


def _version(stat_result: os.stat_result) -> Hashable:
    return (stat_result.st_dev, stat_result.st_ino, stat_result.st_mtime_ns, stat_result.st_size)


def _matches(if_none_match: str, tags: set[str]) -> bool:
    # Weak comparison (RFC 9110 13.1.2): W/ is ignored. Every encoding of the same bytes matches: the
    # browser only asks with the tag of the encoding it stored for this Accept-Encoding (Vary).
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or not candidates.isdisjoint(tags)


class SiteFiles(StaticFiles):
    """``StaticFiles`` (``index.html`` for folders, ``404.html`` when missing) answering as a CDN would."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, html=True)
        self._root = os.path.realpath(directory)
        self._files: dict[str, _File] = {}
        self._locks: dict[Hashable, anyio.Lock] = {}

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        # Conditional requests are answered in get_response, with this module's ETags.
        return FileResponse(full_path, status_code=status_code, stat_result=stat_result)

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        # A file found (or the 404 page); a redirect to the folder's "/" or an error stays as it is.
        if not isinstance(response, FileResponse) or response.stat_result is None:
            return response
        full_path = os.fspath(response.path)
        relative = PurePath(os.path.relpath(full_path, self._root)).as_posix()
        policy = cache_control(relative, response.status_code)
        if response.stat_result.st_size > MAX_CACHED_BYTES:
            response.headers["Cache-Control"] = policy
            return response
        return await self._respond(full_path, response.stat_result, response.status_code, policy, scope)

    async def _respond(
        self, full_path: str, stat_result: os.stat_result, status_code: int, policy: str, scope: Scope
    ) -> Response:
        file = await self._file(full_path, stat_result)
        request_headers = Headers(scope=scope)
        compressible = PurePath(full_path).suffix.lower() in COMPRESSIBLE
        coding = choose_encoding(request_headers.get("accept-encoding", ""), list(ENCODERS)) if compressible else None
        body = await self._encoded(full_path, file, coding) if coding else None
        if body is None:
            body, coding = file.data, None
        headers = {"Cache-Control": policy}
        if compressible:
            headers["Vary"] = "Accept-Encoding"
        if status_code == 200:
            # A 404 page has no validator: a 304 can only stand for a 200.
            headers["ETag"] = file.etag(coding)
            if_none_match = request_headers.get("if-none-match")
            if if_none_match and _matches(if_none_match, file.etags()):
                return Response(status_code=304, headers=headers)
        if coding:
            headers["Content-Encoding"] = coding
        headers["Content-Length"] = str(len(body))
        content = b"" if scope["method"] == "HEAD" else body
        return Response(content, status_code=status_code, headers=headers, media_type=_media_type(full_path))

    async def _file(self, full_path: str, stat_result: os.stat_result) -> _File:
        version = _version(stat_result)
        file = self._files.get(full_path)
        if file is None or file.version != version:
            async with self._once(("read", full_path)):
                file = self._files.get(full_path)
                if file is None or file.version != version:
                    try:
                        file = self._files[full_path] = await to_thread.run_sync(_File.read, full_path)
                    except FileNotFoundError:
                        # Removed since the lookup (a rebuild of the site in place): gone, not a server error.
                        raise HTTPException(status_code=404)
        return file

    async def _encoded(self, full_path: str, file: _File, coding: str) -> bytes | None:
        if coding not in file.encoded:
            async with self._once((coding, full_path, file.version)):
                if coding not in file.encoded:
                    encoded = await to_thread.run_sync(ENCODERS[coding], file.data)
                    file.encoded[coding] = encoded if len(encoded) < len(file.data) else None
        return file.encoded[coding]

    @asynccontextmanager
    async def _once(self, key: Hashable) -> AsyncIterator[None]:
        """Requests that need the same work wait for the first one instead of doing it again."""
        lock = self._locks.setdefault(key, anyio.Lock())
        try:
            async with lock:
                yield
        finally:
            # Waiters hold the lock already; a later request finds the result and needs no lock.
            if self._locks.get(key) is lock:
                del self._locks[key]


class SiteMount(Mount):
    """A mount that never matches an API path or a path a service route owns."""

    def __init__(self, site_dir: Path, service_routes: Sequence[BaseRoute]) -> None:
        super().__init__("/", app=SiteFiles(site_dir), name="site")
        # The app's live route list (this mount is in it, last): routes added later are seen too.
        self._service_routes = service_routes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and (is_api_path(scope["path"]) or self._owned_by_service(scope)):
            return Match.NONE, {}
        return super().matches(scope)

    def _owned_by_service(self, scope: Scope) -> bool:
        # The router only gets here when no route before this mount matched fully, so a match now is a
        # partial one: the path is the service's, the method is not allowed there.
        for route in self._service_routes:
            if route is self:
                return False
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return True
        return False


def site_mount(site_dir: Path, service_routes: Sequence[BaseRoute]) -> SiteMount:
    """The help site's static files at ``/`` (``index.html`` for folders, ``404.html`` when missing).

    ``service_routes`` is the app's route list; append the mount to it last.
    """
    return SiteMount(site_dir, service_routes)
