"""What request bodies have in common: camelCase keys, unknown keys ignored, Java-sized numbers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from visa_platform.api.rest.params import MAX_ID

Long = Annotated[int, Field(ge=-MAX_ID - 1, le=MAX_ID)]
"""A Java ``long``: a bigger number is a 400, not a database error."""


class Body(BaseModel):
    """A JSON request body (VISA's DTOs: camelCase, extra keys ignored)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")
