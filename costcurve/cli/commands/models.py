"""``costcurve models ...``: the canonical model catalog and what does not resolve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from costcurve.core.jsonenc import dumps


def register(app: typer.Typer) -> None:
    models_app = typer.Typer(
        help="Canonical models, tiers and id resolution.", no_args_is_help=True
    )
    app.add_typer(models_app, name="models")

    @models_app.command("list")
    def list_cmd(
        tier: Annotated[str | None, typer.Option(help="Only this tier")] = None,
    ) -> None:
        """Print the catalog as JSON lines (slug, vendor, tier, release date, parameters)."""
        from costcurve.catalog import load_models

        for model in load_models().values():
            if tier is None or model.tier == tier:
                typer.echo(dumps(model.model_dump(exclude={"aliases", "provider_aliases"})))

    @models_app.command("unresolved")
    def unresolved_cmd(
        source: Annotated[
            str | None, typer.Option(help="With --file: parse this source's file instead")
        ] = None,
        file: Annotated[Path | None, typer.Option(help="A recorded response to check")] = None,
        scores: Annotated[
            bool, typer.Option("--scores", help="Score names (Epoch, LMArena) instead of prices")
        ] = False,
    ) -> None:
        """List provider model ids that resolve to no canonical model (model: null).

        Without --file: the offerings stored in the database, per source and provider.
        With --scores: stored score names per source (rows, first and last date),
        most rows first; add an alias to catalog/models.yaml to resolve one.
        """
        if scores:
            _unresolved_scores(source)
            return
        if file is not None:
            from costcurve.cli.commands.parse import observed_at_option, read_and_parse

            if source is None:
                typer.echo("error: --file needs --source", err=True)
                raise typer.Exit(2)
            # Only the ids are listed: an undated file needs no capture time here.
            when = observed_at_option(None, file, required=False)
            observations = read_and_parse(source, file, when)
            ids = sorted(
                {
                    (o.provider, o.provider_model_id)
                    for o in observations
                    if o.kind == "llm_price" and o.model is None
                }
            )
            for provider, pid in ids:
                typer.echo(f"{source}\t{provider}\t{pid}")
            typer.echo(f"{len(ids)} unresolved", err=True)
            return
        from sqlalchemy import text

        from costcurve.cli.runtime import database_or_exit

        _, engine = database_or_exit(require_head=True)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT source, provider, provider_model_id FROM llm_offering "
                    "WHERE model_slug IS NULL AND (:source IS NULL OR source = :source) "
                    "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
                ),
                {"source": source},
            ).all()
        for row in rows:
            typer.echo("\t".join(row))
        typer.echo(f"{len(rows)} unresolved", err=True)


def _unresolved_scores(source: str | None) -> None:
    from costcurve.cli.runtime import database_or_exit
    from db.score_import import match_rates, unresolved_score_names

    _, engine = database_or_exit(require_head=True)
    rows = unresolved_score_names(engine, [source] if source else None)
    for src, name, count, first, last in rows:
        typer.echo(f"{src}\t{name}\t{count}\t{first}\t{last}")
    for rate in match_rates(engine):
        if source is None or rate["source"] == source:
            typer.echo(
                f"{rate['source']}: {rate['resolved_rows']}/{rate['rows']} rows "
                f"({rate['match_rate']:.1%}) matched",
                err=True,
            )
    typer.echo(f"{len(rows)} unresolved", err=True)
