"""Values, errors, metadata and the null backend of the compute contract."""

from __future__ import annotations

import pytest

from visa_platform.compute import (
    CloudAuthenticationError,
    CloudNotFoundError,
    CloudNotSupportedError,
    CloudProtocolError,
    CloudRejectedError,
    CloudUnavailableError,
    InstanceRequest,
    NullBackend,
    instance_metadata,
    server_name,
)


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (CloudUnavailableError, True),
        (CloudProtocolError, True),
        (CloudNotFoundError, False),
        (CloudRejectedError, False),
        (CloudAuthenticationError, False),
        (CloudNotSupportedError, False),
    ],
)
def test_errors_say_whether_to_retry(error: type[CloudRejectedError], retryable: bool) -> None:
    raised = error("GET http://nova/servers: 503 token=abc")
    assert raised.retryable is retryable
    assert raised.user_message and "http" not in raised.user_message
    assert error("x", retryable=not retryable).retryable is not retryable
    assert error("x", user_message="Try later").user_message == "Try later"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "name"),
        ({"image_id": " "}, "image_id"),
        ({"flavour_id": None}, "flavour_id"),
        ({"security_groups": "default"}, "sequence of names"),
        ({"metadata": {"id": 1}}, "strings"),
    ],
)
def test_bad_instance_requests(fields: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"name": "n", "image_id": "i", "flavour_id": "f", **fields}
    with pytest.raises(ValueError, match=message):
        InstanceRequest(**values)  # type: ignore[arg-type]


def test_instance_request_keeps_groups_as_a_tuple() -> None:
    request = InstanceRequest(name="n", image_id="i", flavour_id="f", security_groups=["a", "b"])  # type: ignore[arg-type]
    assert request.security_groups == ("a", "b")


def test_instance_metadata() -> None:
    metadata = instance_metadata(
        instance_id=5,
        uid="u5",
        owner="alice",
        screen_width=1280,
        screen_height=1024,
        keyboard_layout="fr-fr-azerty",
        instruments=["D22", "IN5", "D22"],
        proposals=[],
        attributes={"uid": "overridden", "homeDirectory": "/home/alice"},
    )
    assert metadata == {
        "homeDirectory": "/home/alice",
        "id": "5",
        "uid": "u5",
        "owner": "alice",
        "screenWidth": "1280",
        "screenHeight": "1024",
        "keyboardLayout": "fr-fr-azerty",
        "instruments": "D22,IN5",
        "proposals": "",
    }
    assert "pamPublicKey" in instance_metadata(
        instance_id=1,
        uid="u",
        owner="o",
        screen_width=1,
        screen_height=1,
        keyboard_layout="k",
        pam_public_key="KEY",
    )
    assert server_name("VISA-INSTANCE", 12) == "VISA-INSTANCE-12"


async def test_null_backend() -> None:
    backend = NullBackend()
    assert await backend.get_instance("x") is None
    assert await backend.list_instances() == []
    assert await backend.images() == [] and await backend.flavours() == []
    assert await backend.limits() is None
    with pytest.raises(CloudNotSupportedError) as caught:
        await backend.create_instance(InstanceRequest(name="n", image_id="i", flavour_id="f"))
    assert caught.value.user_message == "No cloud is configured for this platform."
    with pytest.raises(CloudNotSupportedError):
        await backend.start_instance("x")
    with pytest.raises(CloudNotFoundError):
        await backend.delete_instance("x")
