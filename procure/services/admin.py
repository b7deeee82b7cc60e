"""Administration: load reference data, issue and check API tokens."""

from __future__ import annotations

import hashlib
import secrets

from procure.domain import events as ev
from procure.domain.events import Event
from procure.domain.reference import ReferenceData
from procure.errors import NotFound
from procure.services.context import ServiceContext
from procure.store import repository as repo
from procure.store import tables as t


def load_reference_data(ctx: ServiceContext, ref: ReferenceData, *, source: str) -> dict[str, int]:
    counts = {
        "people": len(ref.people),
        "cost_centres": len(ref.cost_centres),
        "gl_codes": len(ref.gl_codes),
        "vat_codes": len(ref.vat_codes),
        "suppliers": len(ref.suppliers),
        "categories": len(ref.categories),
        "delegations": len(ref.delegations),
    }
    with ctx.unit() as u:
        repo.replace_reference(u.session, ref)
        u.record(
            Event(
                name=ev.REFERENCE_DATA_LOADED,
                entity_type="reference",
                entity_id="council",
                occurred_at=ctx.clock(),
                data={"source": source, **counts},
            )
        )
    return counts


def reference_data(ctx: ServiceContext) -> ReferenceData:
    """The council's reference data, through the context's cache (one indexed read when it has
    not changed), so that per-request callers such as the API's authentication stay cheap."""
    with ctx.db.reading() as s:
        return ctx.reference(s)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(ctx: ServiceContext, person_id: str, *, label: str = "") -> str:
    """A new random token for ``person_id``; only its hash is stored, so show it once."""
    token = "pct_" + secrets.token_urlsafe(32)
    with ctx.unit() as u:
        if person_id not in repo.load_reference(u.session).people:
            raise NotFound(f"no person '{person_id}'")
        repo.save_token(
            u.session,
            t.ApiTokenRow(
                token_hash=hash_token(token),
                person_id=person_id,
                label=label,
                created_at=ctx.clock(),
            ),
        )
    return token


def person_for_token(ctx: ServiceContext, token: str) -> str | None:
    with ctx.db.reading() as s:
        return repo.person_for_token_hash(s, hash_token(token))
