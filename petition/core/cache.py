"""Public pages rendered once for everybody who sees them the same way.

A letter's public pages (the letter page with its form and list, the public JSON,
the signed letter) are the busiest on the site, and every anonymous visitor who
reads one in the same language at the same address sees the same bytes, but for
the form's CSRF token. ``shared_page`` serves those bytes from a cache and puts
the visitor's own token in.

**Invalidation is the database's job.** A cache key holds the letter's
``page_version``, which triggers in the database raise in the same transaction as
any change to what these pages show: the letter, its translations and revisions,
its addressees, deliveries and responses, its platform, and every endorsement
that is or was published (migration 0006 lists them). Whoever writes (a request,
the CLI, another host, an administrator's SQL), the next request reads the new
version and renders afresh; an old page is never served for a newer version.
A page rendered for version N holds data at least as new as N, since the version
is read before the data.

**Per visitor**, cheaply: the CSRF token (a placeholder in the stored bytes), the
interface language (part of the key), the address and its query (part of the
key; only the query parameters a page names are accepted, anything else renders
uncached). Signed-in coordinators, visitors with a message to flash and anything
but a 200 are never served from or stored in the cache.

**Where**: ``CACHE_URL`` ``memory://`` (the default: each process keeps its own
least-recently-used pages, ``PAGE_CACHE_ENTRIES`` of them), ``redis://host:port/db``
(shared by every process and host; entries expire after ``PAGE_CACHE_SECONDS``),
or ``null://`` (no cache). Keys start with a fingerprint of the code, templates,
styles and catalogues, so a deployment never serves pages rendered by the
previous release. A Redis that stops answering costs a render, never an error.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import os
import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from flask import Flask, Response, current_app, g, make_response, request, session
from flask_wtf.csrf import generate_csrf

from .extensions import db

from .i18n import current_language

log = logging.getLogger("petition.cache")

# What stands in the stored bytes for the visitor's own CSRF token.
TOKEN_PLACEHOLDER = b"\x00csrf-token\x00"


class Store(Protocol):
    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, value: bytes) -> None: ...
    def clear(self) -> None: ...


class MemoryStore:
    """The last ``entries`` pages used in this process, ``size`` bytes at most."""

    def __init__(self, entries: int, size: int = 64 * 1024 * 1024) -> None:
        self.entries = entries
        self.size = size
        self._bytes = 0
        self._pages: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._pages.get(key)
            if value is not None:
                self._pages.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if len(value) > self.size:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            self._bytes += len(value) - (len(old) if old is not None else 0)
            self._pages[key] = value
            while len(self._pages) > self.entries or self._bytes > self.size:
                self._bytes -= len(self._pages.popitem(last=False)[1])

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0


class RedisStore:
    """Pages shared by every process and host using the same Redis."""

    def __init__(self, url: str, seconds: int) -> None:
        import redis

        self.seconds = seconds
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._warned = False

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get(key)
        except Exception as error:  # a cache that is away costs a render, not the page
            self._warn(error)
            return None

    def set(self, key: str, value: bytes) -> None:
        try:
            self.client.set(key, value, ex=self.seconds)
        except Exception as error:
            self._warn(error)

    def clear(self) -> None:
        self.client.flushdb()

    def _warn(self, error: Exception) -> None:
        if not self._warned:  # once per process, not once per request
            log.warning("Page cache unavailable, rendering every page: %s", error)
            self._warned = True


class NullStore:
    def get(self, key: str) -> bytes | None:
        return None

    def set(self, key: str, value: bytes) -> None:
        pass

    def clear(self) -> None:
        pass


def store_for(url: str, entries: int, seconds: int, size: int = 64 * 1024 * 1024) -> Store:
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(url, seconds)
    if url.startswith("null://"):
        return NullStore()
    if url.startswith("memory://"):
        return MemoryStore(entries, size)
    raise RuntimeError(f"CACHE_URL must be memory://, redis://host:port/db or null://, not {url!r}")


def init_app(app: Flask) -> None:
    app.config.setdefault("CACHE_URL", "memory://")
    app.config.setdefault("PAGE_CACHE_ENTRIES", 500)
    app.config.setdefault("PAGE_CACHE_SECONDS", 3600)
    app.config.setdefault("PAGE_CACHE_MEGABYTES", 64)
    app.extensions["page_cache"] = store_for(app.config["CACHE_URL"], app.config["PAGE_CACHE_ENTRIES"],
                                             app.config["PAGE_CACHE_SECONDS"],
                                             app.config["PAGE_CACHE_MEGABYTES"] * 1024 * 1024)
    app.extensions["page_cache_release"] = release_fingerprint(app)


def page_cache() -> Store:
    return current_app.extensions["page_cache"]


def release_fingerprint(app: Flask) -> str:
    """A short hash of what renders pages: the code, templates, styles, catalogues and
    the settings that appear on them. The same release gives the same value on every host."""
    digest = hashlib.sha256(_files_fingerprint(Path(app.root_path).parent).encode())
    # The database too: two sites (or a staging copy) sharing one Redis never share pages.
    for name in ("SITE_NAME", "BASE_URL", "PLATFORM_CONTACT_EMAIL", "PUBLIC_PAGE_SIZE", "SQLALCHEMY_DATABASE_URI"):
        digest.update(f"{name}={app.config.get(name)}".encode())
    return digest.hexdigest()[:12]


@functools.cache
def _files_fingerprint(root: Path) -> str:
    """Read once per process: the files do not change under a running release."""
    digest = hashlib.sha256()
    for folder, pattern in (("petition", "*.py"), ("templates", "*.html"), ("static", "*"),
                            ("translations", "*.mo")):
        for path in sorted((root / folder).rglob(pattern)):
            if path.is_file():
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


# -- serving -------------------------------------------------------------------------------


# A value a cached address may carry: a page number, a country or language code, an option
# (the longest: the signed letter's list of fields, "type,city,country,website,comment").
# Anything else (a search's free text, a typo) is rendered but not stored, so nobody can fill
# the cache with addresses of their own making.
CANONICAL = re.compile(r"[A-Za-z0-9,_-]{1,40}")


def _shareable(parameters: Iterable[str]) -> bool:
    """Whether this request sees what every visitor with the same address and language sees."""
    if request.method not in ("GET", "HEAD"):
        return False
    args = request.args
    if any(name not in parameters or name == "q" or len(args.getlist(name)) > 1
           or not CANONICAL.fullmatch(args[name]) for name in args):
        return False
    # Anyone signed in (a session naming an account, or a remember-me cookie) sees their own
    # menu: read from the session and cookies directly, without loading the account.
    if "_flashes" in session or "_user_id" in session:
        return False
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") not in request.cookies


def shared_page(version: tuple, render: Callable[[], object], parameters: Iterable[str] = ()) -> Response:
    """The page ``render`` makes, from the cache when this request may share it.

    ``version`` identifies what the page shows (e.g. the letter's id and page_version);
    ``parameters`` are the query parameters the page reads (others: rendered uncached)."""
    if not _shareable(parameters):
        return make_response(render())
    query = request.query_string.decode("latin-1")
    key = ":".join((current_app.extensions["page_cache_release"], "page", *map(str, version),
                    current_language(), request.path + ("?" + query if query else "")))
    store = page_cache()
    cached = store.get(key)
    if cached is not None:
        mimetype, _, body = cached.partition(b"\n")
        if TOKEN_PLACEHOLDER in body:
            body = body.replace(TOKEN_PLACEHOLDER, generate_csrf().encode())
        return Response(body, mimetype=mimetype.decode())
    response = make_response(render())
    if response.status_code == 200 and not response.is_streamed and "_flashes" not in session:
        body = response.get_data()
        token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))  # set if the page has a form
        if token:
            body = body.replace(token.encode(), TOKEN_PLACEHOLDER)
        store.set(key, response.mimetype.encode() + b"\n" + body)
    return response


# -- "has anything been committed since?" --------------------------------------------------


class CommitWatch:
    """Whether anything at all was committed to the database since a value was read:
    then a value read from it is still exact, and need not be read again.

    SQLite answers for free: ``PRAGMA data_version`` on a connection changes whenever
    any other connection, in any process, commits (sqlite.org/pragma.html#pragma_data_version).
    This watch keeps one connection per process and thread that never writes, so every
    commit anywhere is "another connection's". Other databases have no such counter:
    ``stamp()`` is None there and callers read their value every time.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._connections = itertools.count(1)

    def stamp(self) -> tuple[int, int] | None:
        """A value that changes whenever anything is committed (None: cannot tell). The
        counter is per connection: a stamp names its connection too, so no two connections'
        stamps are ever taken for one another."""
        engine = db.engine
        database = engine.url.database
        if (engine.dialect.name != "sqlite" or database in (None, "", ":memory:") or database.startswith("file:")
                or engine.url.query.get("uri")):
            return None  # in memory, or a URI this watch would not open the same way
        local = self._local
        if getattr(local, "engine", None) is not engine or local.pid != os.getpid():
            if getattr(local, "connection", None) is not None and local.pid == os.getpid():
                local.connection.close()
            local.connection = sqlite3.connect(engine.url.database)
            local.engine, local.pid, local.number = engine, os.getpid(), next(self._connections)
        return local.number, local.connection.execute("PRAGMA data_version").fetchone()[0]


commit_watch = CommitWatch()


class Remembered:
    """Values read from the database, remembered while nothing is committed (SQLite: see
    CommitWatch); always read afresh elsewhere."""

    def __init__(self, entries: int = 1000) -> None:
        self._values: OrderedDict = OrderedDict()
        self._entries = entries
        self._lock = threading.Lock()

    def get(self, key, read: Callable[[], object]):
        stamp = commit_watch.stamp()  # before reading: a commit after it shows as a new stamp
        if stamp is not None:
            with self._lock:
                found = self._values.get(key)
            if found is not None and found[0] == stamp:
                return found[1]
        value = read()
        if stamp is not None:
            with self._lock:
                self._values[key] = (stamp, value)
                self._values.move_to_end(key)
                while len(self._values) > self._entries:
                    self._values.popitem(last=False)
        return value
