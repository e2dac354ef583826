"""The audit log and the page-feedback counts (both in the shared database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, case, func, insert, select

from diagnostics.models import AuditEntry, PageFeedback


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    user: str
    action: str
    reference: str | None


@dataclass(frozen=True)
class FeedbackCount:
    page: str
    useful: int
    not_useful: int


def audit(engine: Engine, user: str, action: str, reference: str | None = None, *, now: datetime | None = None) -> None:
    """Write one line: who did what, when, for which reference code."""
    with engine.begin() as connection:
        connection.execute(
            insert(AuditEntry), [{"at": now or _now(), "user": user, "action": action, "reference": reference}]
        )


def audit_lines(engine: Engine, limit: int = 50) -> list[AuditLine]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(AuditEntry.at, AuditEntry.user, AuditEntry.action, AuditEntry.reference)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
        return [AuditLine(row.at, row.user, row.action, row.reference) for row in rows]


def add_feedback(engine: Engine, page: str, rating: int, *, now: datetime | None = None) -> None:
    with engine.begin() as connection:
        connection.execute(insert(PageFeedback), [{"at": now or _now(), "page": page, "rating": rating}])


def feedback_counts(engine: Engine, since: datetime | None = None) -> list[FeedbackCount]:
    """Per page: how many readers found it useful and how many did not, most answers first."""
    useful = func.sum(case((PageFeedback.rating > 0, 1), else_=0))
    not_useful = func.sum(case((PageFeedback.rating > 0, 0), else_=1))
    query = select(PageFeedback.page, useful, not_useful).group_by(PageFeedback.page)
    if since is not None:
        query = query.where(PageFeedback.at >= since)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    counts = [FeedbackCount(str(page), int(yes or 0), int(no or 0)) for page, yes, no in rows]
    return sorted(counts, key=lambda c: (-(c.useful + c.not_useful), c.page))
