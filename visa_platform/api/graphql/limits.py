"""Query limits checked before execution: depth, cost and (optionally) no introspection.

* **depth**: the deepest chain of nested fields (fragments expanded):
  ``{ instances { data { id } } }`` has depth 3.
* **cost**: every field costs 1; the fields below a field with a ``pagination`` argument cost
  ``limit`` times (the literal or variable value; :data:`UNKNOWN_PAGE_SIZE` when it is missing).
* **introspection**: ``__schema`` and ``__type`` are refused when introspection is switched off
  (``__typename`` stays allowed). The admin UI's instance filter introspects ``InstanceState``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tartiflette.language.ast import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    VariableNode,
)

UNKNOWN_PAGE_SIZE = 50
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


@dataclass(frozen=True)
class QueryShape:
    """What the limits look at in one operation."""

    depth: int
    cost: int
    introspection: bool


class LimitExceeded(Exception):
    """A query breaks a limit; ``code`` goes to the error's extensions."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _page_size(field: FieldNode, variables: dict[str, Any]) -> int | None:
    for argument in field.arguments or []:
        if argument.name.value != "pagination":
            continue
        value = argument.value
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            limit = given.get("limit") if isinstance(given, dict) else None
            return limit if isinstance(limit, int) and limit >= 0 else UNKNOWN_PAGE_SIZE
        if isinstance(value, ObjectValueNode):
            for item in value.fields:
                if item.name.value != "limit":
                    continue
                if isinstance(item.value, IntValueNode):
                    return max(int(item.value.value), 0)
                if isinstance(item.value, VariableNode):
                    limit = variables.get(item.value.name.value)
                    return limit if isinstance(limit, int) and limit >= 0 else UNKNOWN_PAGE_SIZE
        return UNKNOWN_PAGE_SIZE
    return None


class _Walker:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]):
        self.fragments = fragments
        self.variables = variables
        self.introspection = False

    def walk(self, selection_set: Any, depth: int, seen: frozenset[str]) -> tuple[int, int]:
        """(max depth, cost) below ``selection_set`` whose fields are at ``depth``."""
        deepest, cost = depth - 1, 0
        for selection in selection_set.selections if selection_set is not None else []:
            if isinstance(selection, FieldNode):
                if selection.name.value in INTROSPECTION_FIELDS:
                    self.introspection = True
                below_depth, below_cost = depth, 0
                if selection.selection_set is not None:
                    below_depth, below_cost = self.walk(selection.selection_set, depth + 1, seen)
                size = _page_size(selection, self.variables)
                cost += 1 + below_cost * (size if size is not None else 1)
                deepest = max(deepest, below_depth)
            elif isinstance(selection, InlineFragmentNode):
                d, c = self.walk(selection.selection_set, depth, seen)
                deepest, cost = max(deepest, d), cost + c
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue  # unknown or cyclic: the validator reports it
                d, c = self.walk(fragment.selection_set, depth, seen | {name})
                deepest, cost = max(deepest, d), cost + c
        return deepest, cost


def shape_of(
    document: Any, operation_name: str | None, variables: dict[str, Any] | None
) -> QueryShape | None:
    """The shape of the operation that will run (``None`` when it cannot be told apart)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if operation_name is not None:
        operations = [
            o for o in operations if o.name is not None and o.name.value == operation_name
        ]
    if len(operations) != 1:
        return None
    walker = _Walker(fragments, variables or {})
    depth, cost = walker.walk(operations[0].selection_set, 1, frozenset())
    return QueryShape(depth=depth, cost=cost, introspection=walker.introspection)


def check(shape: QueryShape, *, max_depth: int, max_cost: int, introspection: bool) -> None:
    """Raise :class:`LimitExceeded` for the first limit the query breaks (0 = no limit)."""
    if shape.introspection and not introspection:
        raise LimitExceeded("introspection is disabled on this server", "INTROSPECTION_DISABLED")
    if max_depth and shape.depth > max_depth:
        raise LimitExceeded(
            f"query depth {shape.depth} exceeds the maximum depth {max_depth}",
            "QUERY_TOO_DEEP",
        )
    if max_cost and shape.cost > max_cost:
        raise LimitExceeded(
            f"query cost {shape.cost} exceeds the maximum cost {max_cost}", "QUERY_TOO_COSTLY"
        )
