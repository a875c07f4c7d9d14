"""A fake of VISA's external security-group service (spec/desktop-security-cloud.md §4.1).

``POST /api/securitygroups`` with ``x-auth-token: <auth_token>`` (401 otherwise) and the instance
JSON; answers ``[{id, name}]``. ``groups_for`` decides the answer (default: ``groups``);
``received`` keeps every instance posted. Fault switches come from
:class:`~visa_platform.testing.fakehttp.FakeHttpServer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from visa_platform.testing.fakehttp import FakeHttpServer, FakeRequest, FakeResponse, json_response

PATH = "/api/securitygroups"


class FakeSecurityGroupService(FakeHttpServer):
    """The service; ``endpoint`` is the value for ``VISA_SECURITY_GROUP_SERVICE_CLIENT_URL``."""

    def __init__(self, auth_token: str = "sg-secret", groups: list[str] | None = None) -> None:
        super().__init__()
        self.auth_token = auth_token
        self.groups = list(groups or [])
        self.groups_for: Callable[[dict[str, Any]], list[str]] | None = None
        self.received: list[dict[str, Any]] = []
        self.add_route("POST", PATH, self._security_groups)

    @property
    def endpoint(self) -> str:
        return self.url + PATH

    async def _security_groups(self, request: FakeRequest) -> FakeResponse:
        if request.headers.get("x-auth-token") != self.auth_token:
            return json_response({"error": "unauthorised"}, 401)
        instance = request.json()
        self.received.append(instance)
        names = self.groups_for(instance) if self.groups_for else self.groups
        return json_response([{"id": n, "name": name} for n, name in enumerate(names, 1)])
