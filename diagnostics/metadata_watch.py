"""Broker metadata watch: refresh, validate and diff each broker's metadata against the last copy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from diagnostics.db import Base, UtcDateTime


class MetadataSnapshot(Base):
    """One fetched copy of a broker's metadata: what we trusted, and what changed since the previous one."""

    __tablename__ = "broker_metadata"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    broker_id: Mapped[str] = mapped_column(String(32), index=True)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)
    xml_sha256: Mapped[str] = mapped_column(String(64))
    signing_fingerprints: Mapped[list[str]] = mapped_column(JSON)
    endpoints: Mapped[dict[str, Any]] = mapped_column(JSON)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    changes: Mapped[list[str]] = mapped_column(JSON)
