"""Hook implementations of the default security-group plugin."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from visa_platform.plugin import hookimpl
from visa_platform.plugin.types import SecurityGroupQuery
from visa_secgroups.rules import security_groups


@hookimpl(tryfirst=True)
async def visa_instance_security_groups(
    query: SecurityGroupQuery, session: AsyncSession
) -> list[str]:
    """The database filters' groups, first in the combined list (custom groups come after)."""
    return await security_groups(session, query)
