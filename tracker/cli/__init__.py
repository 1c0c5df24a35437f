"""The ``tracker`` command line: thin wiring of library calls, one module per command group.

Every module in this package whose name does not start with ``_`` defines
``register(cli: click.Group) -> None`` and is discovered at start-up.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from tracker.cli._common import TrackerGroup

__all__ = ["cli", "main"]


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="TRACKER_DB",
    default=None,
    metavar="URL|PATH",
    help="Store: SQLAlchemy URL or SQLite file (default $TRACKER_DB, else ./tracker.db).",
)
@click.version_option(package_name="tracker")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """tracker: follow shipments from sea to land with AIS, sightings, sanctions lists and maps."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = db


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(cli)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the exit status."""
    try:
        status = cli.main(args=argv, prog_name="tracker", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("tracker: aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return status if isinstance(status, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
