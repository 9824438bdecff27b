"""The base of every ``params`` model (kept out of :mod:`protocol` so ``ping`` needs no pydantic model)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    """Base for every ``params`` model: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")
