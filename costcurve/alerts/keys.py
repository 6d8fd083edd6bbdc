"""API keys: a random secret shown once; only its sha256 and a short prefix are kept.

The prefix (``cc_`` + 8 characters) lets a person tell keys apart in listings
without the database ever holding anything that authenticates.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, select, update

from db.models import AlertRule, ApiKey

KEY_PREFIX = "cc_"
PREFIX_LENGTH = 11  # "cc_" + 8 characters; the column holds 12
_keys = ApiKey.__table__  # type: ignore[attr-defined]
_rules = AlertRule.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class NewKey:
    id: int
    name: str
    prefix: str
    secret: str  # shown once, never stored


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(engine: Engine, name: str) -> NewKey:
    name = name.strip()
    if not name:
        raise ValueError("an API key needs a non-empty name")
    with engine.begin() as conn:
        return _insert_key(conn, name)


def _insert_key(conn: Connection, name: str) -> NewKey:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key_id = conn.execute(
        insert(_keys)
        .values(
            name=name,
            key_prefix=secret[:PREFIX_LENGTH],
            key_sha256=hash_key(secret),
            created_at=datetime.now(UTC),
        )
        .returning(_keys.c.id)
    ).scalar_one()
    return NewKey(int(key_id), name, secret[:PREFIX_LENGTH], secret)


def verify_key(conn: Connection, secret: str | None) -> int | None:
    """The id of the active key with this secret, or None.

    The lookup is by hash, so its timing says nothing about how much of a
    guessed secret was right.
    """
    if not secret or not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    row = conn.execute(
        select(_keys.c.id).where(
            _keys.c.key_sha256 == hash_key(secret), _keys.c.revoked_at.is_(None)
        )
    ).first()
    return int(row[0]) if row else None


def list_keys(engine: Engine) -> list[KeyInfo]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                _keys.c.id, _keys.c.name, _keys.c.key_prefix, _keys.c.created_at, _keys.c.revoked_at
            ).order_by(_keys.c.id)
        ).all()
    return [KeyInfo(*r) for r in rows]


def revoke_key(engine: Engine, key_id: int) -> bool:
    with engine.begin() as conn:
        done = conn.execute(
            update(_keys)
            .where(_keys.c.id == key_id, _keys.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        ).rowcount
    return bool(done)


def rotate_key(engine: Engine, key_id: int) -> NewKey:
    """A new key for the owner of ``key_id`` (same name) that takes over its alert rules.

    The old key is revoked in the same transaction, so the rules never fire
    under a revoked key and are never without an owner who can delete them.
    """
    with engine.begin() as conn:
        name = conn.execute(select(_keys.c.name).where(_keys.c.id == key_id)).scalar_one_or_none()
        if name is None:
            raise ValueError(f"no API key {key_id}")
        new = _insert_key(conn, str(name))
        conn.execute(update(_rules).where(_rules.c.api_key_id == key_id).values(api_key_id=new.id))
        conn.execute(
            update(_keys)
            .where(_keys.c.id == key_id, _keys.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    return new
