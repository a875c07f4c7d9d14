"""Plugin discovery through real entry points: allow/deny lists and failure isolation."""

from __future__ import annotations

import logging

import pytest

from visa_platform.plugin import PluginHost
from visa_platform.testing.plugins import PluginSite

GOOD = """
from visa_platform.plugin import hookimpl

@hookimpl
def visa_register_compute_backends(register):
    register.add("goodcloud", dict)

@hookimpl
def visa_instance_created(event):
    pass
"""


def infos(host: PluginHost) -> dict[str, object]:
    return {i.name: i for i in host.plugins()}


def test_entry_point_plugins_load_with_name_version_and_hooks(plugin_site: PluginSite) -> None:
    plugin_site.install(
        "visa-good",
        version="2.3.4",
        entry_points={"good": "visa_good"},
        modules={"visa_good": GOOD},
    )
    host = PluginHost()
    host.load_entry_points()
    info = infos(host)["good"]
    assert info.status == "loaded"  # type: ignore[attr-defined]
    assert info.distribution == "visa-good"  # type: ignore[attr-defined]
    assert info.version == "2.3.4"  # type: ignore[attr-defined]
    assert info.hooks == [  # type: ignore[attr-defined]
        "visa_instance_created",
        "visa_register_compute_backends",
    ]
    # the default cloud plugins (openstack, web) register through the same group
    assert {"goodcloud", "openstack", "web"} <= set(host.compute_backends.ids())
    # the built-in default plugin is loaded through the same group
    assert infos(host)["eventlog"].status == "loaded"  # type: ignore[attr-defined]


def test_broken_plugin_is_recorded_and_others_still_load(
    plugin_site: PluginSite, caplog: pytest.LogCaptureFixture
) -> None:
    plugin_site.install(
        "visa-good", entry_points={"good": "visa_good"}, modules={"visa_good": GOOD}
    )
    plugin_site.install(
        "visa-broken",
        entry_points={"broken": "visa_broken"},
        modules={"visa_broken": "import does_not_exist_anywhere\n"},
    )
    plugin_site.install(
        "visa-missing-module", entry_points={"ghost": "visa_ghost_module"}, modules={}
    )
    with caplog.at_level(logging.ERROR, logger="visa_platform.plugin"):
        host = PluginHost()
        host.load_entry_points()
    found = infos(host)
    assert found["good"].status == "loaded"  # type: ignore[attr-defined]
    broken = found["broken"]
    assert broken.status == "failed"  # type: ignore[attr-defined]
    assert broken.distribution == "visa-broken"  # type: ignore[attr-defined]
    assert "does_not_exist_anywhere" in broken.errors[0]  # type: ignore[attr-defined]
    assert found["ghost"].status == "failed"  # type: ignore[attr-defined]
    assert "visa_ghost_module" in found["ghost"].errors[0]  # type: ignore[attr-defined]
    assert "plugin=broken outcome=import_failed" in caplog.text
    # the default cloud plugins (openstack, web) register through the same group
    assert {"goodcloud", "openstack", "web"} <= set(host.compute_backends.ids())


def test_deny_list_prevents_import(plugin_site: PluginSite) -> None:
    # A denied plugin is never imported: this one would raise at import time.
    plugin_site.install(
        "visa-bomb",
        entry_points={"bomb": "visa_bomb"},
        modules={"visa_bomb": "raise SystemExit(3)"},
    )
    plugin_site.install(
        "visa-good", entry_points={"good": "visa_good"}, modules={"visa_good": GOOD}
    )
    host = PluginHost()
    host.load_entry_points(deny=["bomb"])
    found = infos(host)
    assert found["bomb"].status == "disabled"  # type: ignore[attr-defined]
    assert found["bomb"].errors == ["disabled (deny list)"]  # type: ignore[attr-defined]
    assert found["good"].status == "loaded"  # type: ignore[attr-defined]


def test_allow_list_loads_only_named_plugins(plugin_site: PluginSite) -> None:
    plugin_site.install(
        "visa-good", entry_points={"good": "visa_good"}, modules={"visa_good": GOOD}
    )
    host = PluginHost()
    host.load_entry_points(allow=["good", "not-installed"])
    found = infos(host)
    assert found["good"].status == "loaded"  # type: ignore[attr-defined]
    assert found["eventlog"].status == "disabled"  # type: ignore[attr-defined]
    assert found["not-installed"].status == "missing"  # type: ignore[attr-defined]


def test_entry_point_naming_a_class_is_refused(plugin_site: PluginSite) -> None:
    plugin_site.install(
        "visa-classy",
        entry_points={"classy": "visa_classy:Plugin"},
        modules={
            "visa_classy": """
            from visa_platform.plugin import hookimpl
            class Plugin:
                @hookimpl
                def visa_instance_created(self, event):
                    pass
            """
        },
    )
    host = PluginHost()
    host.load_entry_points(allow=["classy"])
    info = infos(host)["classy"]
    assert info.status == "failed"  # type: ignore[attr-defined]
    assert "names a class" in info.errors[0]  # type: ignore[attr-defined]


class UnknownHook:
    from visa_platform.plugin import hookimpl

    @hookimpl
    def visa_no_such_hook(self) -> None:
        pass


class WrongSignature:
    from visa_platform.plugin import hookimpl

    @hookimpl
    def visa_instance_created(self, event: object, surprise: object) -> None:
        pass


class Wrapper:
    from visa_platform.plugin import hookimpl

    @hookimpl(wrapper=True)
    def visa_instance_created(self, event: object) -> object:
        return (yield)


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (UnknownHook(), "unknown hook 'visa_no_such_hook'"),
        (WrongSignature(), "surprise"),
        (Wrapper(), "wrappers are not supported"),
    ],
)
def test_invalid_plugins_are_rejected_with_a_reason(plugin: object, message: str) -> None:
    host = PluginHost()
    info = host.register(plugin, "bad")
    assert info.status == "failed"
    assert message in " ".join(info.errors)
    assert host._pm.get_plugin("bad") is None


def test_unregister_removes_the_plugin() -> None:
    class Backends:
        from visa_platform.plugin import hookimpl

        @hookimpl
        def visa_register_compute_backends(self, register: object) -> None:
            register.add("x", dict)  # type: ignore[attr-defined]

    host = PluginHost()
    host.register(Backends(), "backends")
    assert host.compute_backends.ids() == ["x"]
    host.unregister("backends")
    assert host.compute_backends.ids() == []
    assert host.plugins() == []
