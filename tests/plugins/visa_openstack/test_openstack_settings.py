"""The OpenStack backend reads VISA's parameters and says clearly what is wrong."""

from __future__ import annotations

import pytest

from visa_openstack.settings import ApplicationCredential, OpenStackSettings, PasswordCredential
from visa_platform.compute import BackendConfig, CloudConfigurationError

BASE = {
    "identityEndpoint": "http://keystone:5000",
    "computeEndpoint": "http://nova:8774/",
    "imageEndpoint": "http://glance:9292/v2",
    "networkEndpoint": "http://neutron:9696/v2.0/",
    "applicationId": "app",
    "applicationSecret": "secret",
    "addressProvider": "private",
    "addressProviderUUID": "net-1, net-2,",
}


def settings(**parameters: str | None) -> OpenStackSettings:
    merged = {k: v for k, v in {**BASE, **parameters}.items() if v is not None}
    config = BackendConfig(
        cloud_id=None, name="Default", type="openstack", parameters=merged, read_timeout=7
    )
    return OpenStackSettings.from_config(config)


def test_visa_parameters() -> None:
    s = settings()
    assert s.identity_url == "http://keystone:5000"
    assert s.compute_url == "http://nova:8774"
    assert s.image_url == "http://glance:9292"
    assert s.network_url == "http://neutron:9696"
    assert s.credential == ApplicationCredential(id="app", secret="secret")
    assert s.address_provider == "private"
    assert s.network_ids == ("net-1", "net-2")
    assert (s.read_timeout, s.call_timeout) == (7, 15 + 14)


def test_versioned_endpoints_are_accepted() -> None:
    s = settings(identityEndpoint="http://keystone:5000/v3/", computeEndpoint="http://n/v2.1")
    assert (s.identity_url, s.compute_url) == ("http://keystone:5000", "http://n")


def test_password_credential() -> None:
    s = settings(
        applicationId=None,
        applicationSecret=None,
        username="visa",
        password="pw",
        projectName="visa",
    )
    assert s.credential == PasswordCredential(
        username="visa",
        password="pw",
        project_name="visa",
        project_id=None,
        user_domain_name="Default",
        project_domain_name="Default",
    )


def test_catalogue_endpoints_are_optional() -> None:
    s = settings(computeEndpoint=None, imageEndpoint=None, networkEndpoint=None)
    assert (s.compute_url, s.image_url, s.network_url) == (None, None, None)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"identityEndpoint": None}, "identityEndpoint is required"),
        ({"computeEndpoint": "nova:8774"}, "computeEndpoint: 'nova:8774' is not an http(s) URL"),
        ({"applicationSecret": None}, "applicationId and applicationSecret must be given together"),
        (
            {"applicationId": None, "applicationSecret": None},
            "credentials are required",
        ),
        (
            {"applicationId": None, "applicationSecret": None, "username": "u", "password": "p"},
            "password authentication needs projectName or projectId",
        ),
    ],
)
def test_bad_configuration(parameters: dict[str, str | None], message: str) -> None:
    with pytest.raises(CloudConfigurationError) as caught:
        settings(**parameters)
    assert message in str(caught.value)
    assert "'Default'" in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(CloudConfigurationError) as caught:
        settings(identityEndpoint=None, applicationId=None, applicationSecret=None)
    assert "identityEndpoint is required" in str(caught.value)
    assert "credentials are required" in str(caught.value)
