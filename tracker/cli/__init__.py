"""The ``tracker`` command line: thin wiring of library calls, one module per command group.

Every module in this package whose name does not start with ``_`` defines
``register(cli: click.Group) -> None`` and is discovered at start-up.
"""

from __future__ import annotations

import errno
import importlib
import os
import pkgutil
import sys

import click

from tracker.cli._common import TrackerGroup
from tracker.core.errors import TrackerError

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


def _store_urls(argv: list[str] | None) -> list[str]:
    """Every store URL the user gave (``--db`` value, ``$TRACKER_DB``): passwords to mask."""
    args = list(sys.argv[1:] if argv is None else argv)
    urls = [os.environ.get("TRACKER_DB") or ""]
    for i, arg in enumerate(args):
        if arg == "--db" and i + 1 < len(args):
            urls.append(args[i + 1])
        elif arg.startswith("--db="):
            urls.append(arg[5:])
    return [u for u in urls if u]


def _last_resort(exc: BaseException, urls: list[str]) -> str:
    """One line for an error no command translated: no traceback, SQL, parameters or secret."""
    from tracker.store.engine import mask_secrets, store_error

    if isinstance(exc, OSError) and not isinstance(exc, TrackerError):
        what = exc.strerror or str(exc)
        where = exc.filename or "tracker"
        hint = {
            errno.ENOSPC: "free space on that disk and run the command again",
            errno.EDQUOT: "free space on that disk and run the command again",
            errno.EACCES: "check the permissions of that file and its folder",
            errno.EPERM: "check the permissions of that file and its folder",
            errno.EROFS: "that file system is read-only: write somewhere else",
        }.get(exc.errno, "check that path and run the command again")
        text = f"{where}: {what}; {hint}"
    else:
        text = None
        if urls:
            translated = store_error(exc, urls[-1]) if "://" in urls[-1] else None
            text = str(translated) if translated else None
        if text is None:
            orig = getattr(exc, "orig", None) or exc
            detail = " ".join(str(orig).split("\n")[0].split()) or type(orig).__name__
            text = (
                f"{type(orig).__name__}: {detail} (unexpected: set TRACKER_DEBUG=1 to see the "
                "traceback, and please report it)"
            )
    return mask_secrets(" ".join(text.split()), *urls)


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the exit status.

    Errors are one line on stderr, never a traceback, and every store URL is printed with its
    password masked; ``TRACKER_DEBUG=1`` re-raises unexpected errors to show the traceback.
    """
    urls = _store_urls(argv)
    try:
        status = cli.main(args=argv, prog_name="tracker", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("tracker: aborted", err=True)
        return 130
    except click.ClickException as exc:
        if urls:
            from tracker.store.engine import mask_secrets

            exc.message = mask_secrets(exc.message, *urls)
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("tracker: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 141
    except Exception as exc:  # the last resort: one line, never a traceback
        if os.environ.get("TRACKER_DEBUG"):
            raise
        click.echo(f"tracker: error: {_last_resort(exc, urls)}", err=True)
        return 1 if not isinstance(exc, OSError | TrackerError) else 2
    return status if isinstance(status, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
