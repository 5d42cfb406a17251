"""Every query about idempotency keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from service.idempotency.models import IdempotencyRecord


def insert_if_absent(session: Session, record: IdempotencyRecord) -> bool:
    """Insert ``record`` unless the user already has that key; True when inserted.

    On PostgreSQL a concurrent insert of the same key waits for the other transaction, so two
    retries racing each other never both get in.
    """
    table = IdempotencyRecord.__table__  # type: ignore[attr-defined]  # SQLModel sets it
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    values = record.model_dump()
    inserted = session.execute(
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(table.c.key)
    ).first()
    return inserted is not None


def get_for_update(session: Session, user_id: str, key: str) -> IdempotencyRecord | None:
    statement = (
        select(IdempotencyRecord)
        .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
        .with_for_update()
    )
    return session.exec(statement).first()


def delete_key(session: Session, user_id: str, key: str) -> None:
    session.execute(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.user_id) == user_id, col(IdempotencyRecord.key) == key
        )
    )


def delete_expired(session: Session, now: datetime) -> int:
    result = session.execute(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.expires_at) < now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
