"""The decision log's hash chain: a canonical encoding of an entry and its SHA-256.

Each entry's hash covers its own fields and the previous entry's hash, so an
entry changed, removed or inserted behind the tool's back breaks the chain at
that point. The login (who acted, as the database or the operating system knows
them) is covered too, from schema 0005 on. The encoding is JSON with sorted keys,
no spaces and ISO times, so it is the same on every machine and database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = ("id", "at", "actor", "login", "kind", "crime_ref", "collar", "reason", "detail")
# Hashed only when recorded: entries written before caseload recorded the login (schema
# 0005) have none, and keep the hashes they were written with.
OPTIONAL_FIELDS = frozenset({"login"})


def canonical(entry: Mapping[str, Any]) -> bytes:
    body = {}
    for key in HASHED_FIELDS:
        value = entry.get(key)
        if value is None and key in OPTIONAL_FIELDS:
            continue
        if isinstance(value, datetime):
            value = value.isoformat(timespec="microseconds")
        body[key] = value
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(prev_hash.encode())
    digest.update(canonical(entry))
    return digest.hexdigest()
