"""Field helpers shared by the API's schemas, so the contract says what the JSON holds."""

from __future__ import annotations

from typing import Any

from marshmallow import fields


def decimal(**kw: Any) -> fields.Decimal:
    """An exact decimal sent as a JSON string ("8.6000"), documented as such."""
    meta = {"type": "string", "format": "decimal", **kw.pop("metadata", {})}
    return fields.Decimal(as_string=True, metadata=meta, **kw)
