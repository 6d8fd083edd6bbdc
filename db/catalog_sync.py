"""Copy the reviewed catalog (catalog/models.yaml) into canonical_model and
model_alias (provider "*" for aliases valid at every provider), so SQL users see
the same tiers and aliases the code resolves with. The YAML stays the source of
truth; this is an idempotent upsert."""

from __future__ import annotations

from sqlalchemy import Engine, delete
from sqlalchemy.dialects.postgresql import insert

from costcurve.catalog import load_models
from db.models import CanonicalModel, ModelAlias

_models = CanonicalModel.__table__  # type: ignore[attr-defined]
_aliases = ModelAlias.__table__  # type: ignore[attr-defined]


def sync_catalog(engine: Engine) -> int:
    rows = [
        {
            "slug": m.slug,
            "name": m.name,
            "vendor": m.vendor,
            "family": m.family,
            "release_date": m.release_date,
            "open_weights": m.open_weights,
            "total_params_b": m.total_params_b,
            "active_params_b": m.active_params_b,
            "tier": m.tier,
            "reasoning": m.reasoning,
            "sources": list(m.sources),
        }
        for m in load_models().values()
    ]
    aliases = [
        {"provider": "*", "provider_model_id": alias, "model_slug": m.slug}
        for m in load_models().values()
        for alias in m.aliases
    ] + [
        {"provider": provider, "provider_model_id": alias, "model_slug": m.slug}
        for m in load_models().values()
        for provider, provider_aliases in m.provider_aliases.items()
        for alias in provider_aliases
    ]
    with engine.begin() as conn:
        if rows:
            stmt = insert(_models).values(rows)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["slug"],
                    set_={c: stmt.excluded[c] for c in rows[0] if c != "slug"},
                )
            )
        conn.execute(delete(_aliases))
        if aliases:
            conn.execute(insert(_aliases).values(aliases).on_conflict_do_nothing())
    return len(rows)
