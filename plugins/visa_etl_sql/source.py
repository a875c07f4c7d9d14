"""The ``sql`` source: a user-office database read with one query per kind.

Options: ``url`` (a SQLAlchemy URL) or ``url_env`` (the environment variable holding it, to keep
passwords out of files), and ``[queries]`` mapping kinds to SELECT statements whose column names
are the kind's field names (alias them with AS). ``postgresql://`` and ``sqlite://`` URLs without
a driver use the async drivers installed with visa-platform; any other driver (``oracle+oracledb``,
``mysql+pymysql`` ...) must be installed and runs in a dedicated worker thread. Results are
streamed, ``batch_size`` rows at a time.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from visa_platform.etl import SPECS, Kind, Record, SourceContext, SourceError

OPTIONS = {"url", "url_env", "queries", "batch_size"}
ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}


class SqlSource:
    """Runs the configured queries; see the module docstring."""

    def __init__(self, context: SourceContext) -> None:
        self.name = context.name
        options = dict(context.options)
        unknown = sorted(set(options) - OPTIONS)
        if unknown:
            raise SourceError(
                f"source {self.name}: unknown option(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(OPTIONS))})"
            )
        self.url = self._url(options)
        self.batch_size = int(options.get("batch_size", 5000))
        queries = options.get("queries")
        if not isinstance(queries, dict) or not queries:
            raise SourceError(f"source {self.name}: [queries] must map kinds to SELECT statements")
        self.queries: dict[Kind, str] = {}
        for kind_name, query in queries.items():
            try:
                kind = Kind(kind_name)
            except ValueError:
                known = ", ".join(k.value for k in Kind)
                raise SourceError(
                    f"source {self.name}: queries: unknown kind {kind_name!r} (known: {known})"
                ) from None
            if not isinstance(query, str) or not query.strip():
                raise SourceError(f"source {self.name}: queries.{kind_name} must be SQL text")
            self.queries[kind] = query
        self._async_engine: AsyncEngine | None = None
        self._sync_engine: Engine | None = None
        self._thread: ThreadPoolExecutor | None = None

    def _url(self, options: dict[str, Any]) -> URL:
        raw = options.get("url")
        if raw is None and "url_env" in options:
            raw = os.environ.get(str(options["url_env"]))
            if not raw:
                raise SourceError(f"source {self.name}: ${options['url_env']} is not set")
        if not raw:
            raise SourceError(f"source {self.name}: `url` (or `url_env`) is required")
        try:
            url = make_url(str(raw))
        except ArgumentError:
            raise SourceError(f"source {self.name}: `url` is not a SQLAlchemy URL") from None
        return url.set(drivername=ASYNC_DRIVERS.get(url.drivername, url.drivername))

    @property
    def display_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def kinds(self) -> list[Kind]:
        return list(self.queries)

    def records(self, kind: Kind) -> AsyncIterator[Record]:
        if self._is_async():
            return self._async_records(kind)
        return self._threaded_records(kind)

    def _is_async(self) -> bool:
        try:
            return bool(self.url.get_dialect().is_async)
        except NoSuchModuleError:
            raise SourceError(
                f"source {self.name}: no SQLAlchemy dialect for {self.url.drivername!r}"
            ) from None

    def _origin(self, kind: Kind, number: int, row: dict[str, Any]) -> str:
        keys = ["role" if k == "role_id" else k for k in SPECS[kind].key]
        shown = ",".join(f"{k}={row[k]}" for k in keys if k in row)
        return f"{self.name} {kind}[{shown}]" if shown else f"{self.name} {kind} row {number}"

    def _fail(self, kind: Kind, exc: BaseException) -> SourceError:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        detail = reason[0] if reason else type(exc).__name__
        return SourceError(
            f"source {self.name}: query {kind} on {self.display_url} failed: {detail}"
        )

    async def _async_records(self, kind: Kind) -> AsyncIterator[Record]:
        if self._async_engine is None:
            self._async_engine = create_async_engine(self.url)
        number = 0
        try:
            async with self._async_engine.connect() as conn:
                result = await conn.stream(text(self.queries[kind]))
                async for partition in result.mappings().partitions(self.batch_size):
                    for mapping in partition:
                        number += 1
                        row = dict(mapping)
                        yield Record(row, self._origin(kind, number, row))
        except SourceError:
            raise
        except Exception as exc:
            raise self._fail(kind, exc) from exc

    async def _threaded_records(self, kind: Kind) -> AsyncIterator[Record]:
        """A blocking driver, always on the same worker thread (some drivers insist on it)."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"etl-{self.name}")
        loop = asyncio.get_running_loop()
        rows = self._blocking_rows(kind)
        take: Callable[[], list[Record]] = lambda: list(islice(rows, self.batch_size))  # noqa: E731
        try:
            while chunk := await loop.run_in_executor(self._thread, take):
                for record in chunk:
                    yield record
        except SourceError:
            raise
        except Exception as exc:
            raise self._fail(kind, exc) from exc
        finally:
            await loop.run_in_executor(self._thread, rows.close)

    def _blocking_rows(self, kind: Kind) -> Generator[Record, None, None]:
        if self._sync_engine is None:
            self._sync_engine = create_engine(self.url)
        with self._sync_engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=self.batch_size).execute(
                text(self.queries[kind])
            )
            for number, mapping in enumerate(result.mappings(), start=1):
                row = dict(mapping)
                yield Record(row, self._origin(kind, number, row))

    async def aclose(self) -> None:
        if self._async_engine is not None:
            await self._async_engine.dispose()
        if self._sync_engine is not None:
            engine, self._sync_engine = self._sync_engine, None
            if self._thread is not None:
                await asyncio.get_running_loop().run_in_executor(self._thread, engine.dispose)
            else:
                engine.dispose()
        if self._thread is not None:
            self._thread.shutdown(wait=False)
