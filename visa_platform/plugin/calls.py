"""Calling hook implementations that may be sync or async: the one helper the host uses.

pluggy is synchronous: an ``async def`` implementation would come back as an un-awaited coroutine
and defeat ``firstresult``. The host therefore walks the implementations itself, in pluggy's call
order (``tryfirst`` first, then last-registered first), and awaits whatever is awaitable. Each
failure is attributed to its plugin.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pluggy

log = logging.getLogger("visa_platform.plugin")


@dataclass(frozen=True)
class HookResult:
    """The value one plugin's implementation returned (``None`` results are kept out)."""

    plugin: str
    value: Any


def implementations(caller: pluggy.HookCaller) -> list[pluggy.HookImpl]:
    """A hook's implementations in call order."""
    return list(reversed(caller.get_hookimpls()))


def invoke(impl: pluggy.HookImpl, kwargs: Mapping[str, Any]) -> Any:
    """Call one implementation with the arguments it asks for (any subset of the hook's)."""
    return impl.function(*[kwargs[name] for name in impl.argnames])


async def _attempt(
    caller: pluggy.HookCaller,
    impl: pluggy.HookImpl,
    kwargs: Mapping[str, Any],
    propagate: tuple[type[Exception], ...] = (),
) -> tuple[bool, Any]:
    """(succeeded, value) of one implementation, awaited if need be; failures are logged,
    except those of the ``propagate`` classes, which the caller wants to see."""
    try:
        result = invoke(impl, kwargs)
        if inspect.isawaitable(result):
            result = await result
    except propagate:
        raise
    except Exception:
        log.exception("hook=%s plugin=%s outcome=failed", caller.name, impl.plugin_name)
        return False, None
    return True, result


async def call_all(caller: pluggy.HookCaller, **kwargs: Any) -> list[HookResult]:
    """Call every implementation, awaiting as needed; log and skip the ones that raise."""
    results: list[HookResult] = []
    for impl in implementations(caller):
        ok, value = await _attempt(caller, impl, kwargs)
        if ok and value is not None:
            results.append(HookResult(impl.plugin_name, value))
    return results


async def call_first(
    caller: pluggy.HookCaller, propagate: tuple[type[Exception], ...] = (), **kwargs: Any
) -> HookResult | None:
    """Call implementations until one returns something other than ``None``.

    An implementation that raises is logged and counts as ``None``, unless the exception is one
    of ``propagate``.
    """
    for impl in implementations(caller):
        ok, value = await _attempt(caller, impl, kwargs, propagate)
        if ok and value is not None:
            return HookResult(impl.plugin_name, value)
    return None
