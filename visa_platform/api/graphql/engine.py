"""The tartiflette engine of one application, built once when the app starts serving.

tartiflette keeps resolvers and scalars in a process-wide registry keyed by schema name
(spec/stack-notes.md §2): registering a name twice fails, and cleaning the registry empties
every engine built afterwards from resolvers decorated at import time. So resolvers are kept in
a plain mapping (:data:`~visa_platform.api.graphql.resolvers.RESOLVERS`) and registered under a
schema name unique to each engine; the name is dropped from the registry when the app stops.
"""

from __future__ import annotations

import itertools
import re
from functools import cache
from typing import Any

from tartiflette import Engine, Resolver, create_engine
from tartiflette.schema.registry import SchemaRegistry

from visa_platform.api.graphql.errors import error_coercer
from visa_platform.api.graphql.resolvers import RESOLVERS
from visa_platform.api.graphql.scalars import register_scalars
from visa_platform.api.graphql.sdl import load_sdl

_names = itertools.count(1)
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@cache
def snake_case(name: str) -> str:
    """``serverNamePrefix`` -> ``server_name_prefix`` (the attribute of a model or dataclass)."""
    return _CAMEL.sub("_", name).lower()


async def default_resolver(parent: Any, args: dict[str, Any], ctx: Any, info: Any) -> Any:
    """Fields without a resolver: a dict's key, else the snake_case attribute."""
    name = info.field_name
    if parent is None:
        return None
    if isinstance(parent, dict):
        return parent.get(name)
    return getattr(parent, snake_case(name), None)


class AdminEngine:
    """A cooked engine and the schema name it owns in tartiflette's registry."""

    def __init__(self, engine: Engine, schema_name: str) -> None:
        self.engine = engine
        self.schema_name = schema_name

    @property
    def schema(self) -> Any:
        """The baked ``GraphQLSchema`` (for parsing queries before execution)."""
        return SchemaRegistry.find_schema(self.schema_name)

    def drop(self) -> None:
        """Forget this engine's registrations (the engine itself keeps working)."""
        # tartiflette has no public way to drop one schema name
        SchemaRegistry._schemas.pop(self.schema_name, None)


async def build_engine() -> AdminEngine:
    """A new engine with every resolver and scalar, under a fresh schema name."""
    schema_name = f"visa_admin_{next(_names)}"
    register_scalars(schema_name)
    for field_name, implementation in RESOLVERS.items():
        Resolver(field_name, schema_name=schema_name)(implementation)
    try:
        engine = await create_engine(
            load_sdl(),
            schema_name=schema_name,
            error_coercer=error_coercer,  # type: ignore[arg-type]  # tartiflette awaits it
            custom_default_resolver=default_resolver,
            coerce_list_concurrently=True,
        )
    except BaseException:
        SchemaRegistry._schemas.pop(schema_name, None)
        raise
    return AdminEngine(engine, schema_name)
