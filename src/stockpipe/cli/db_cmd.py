"""`stockpipe db ...`: migrations, how to connect, psql, stopping the embedded server."""

from __future__ import annotations

import os
import sys

import click
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from stockpipe.cli import configure_logging, exit_for_database, load_settings_or_exit
from stockpipe.store import Database, DatabaseError
from stockpipe.store.db import EMBEDDED_DBNAME, embedded_server_for
from stockpipe.store.embedded import bin_path
from stockpipe.store.errors import describe_conninfo
from stockpipe.store.migrate import applied_versions


@click.group(name="db")
def command() -> None:
    """The PostgreSQL database: schema migrations and how to connect."""


@command.command()
def migrate() -> None:
    """Apply pending schema migrations and list the versions on the database."""
    settings = load_settings_or_exit()
    configure_logging(settings)
    try:
        with Database.from_settings(settings, migrate=False) as db:
            from stockpipe.store.migrate import migrate as apply

            with db.pool.connection() as conn:
                applied_now = apply(conn)
                on_db = sorted(applied_versions(conn))
    except DatabaseError as exc:
        exit_for_database("db migrate", exc, settings)
    click.echo(f"database: {db.describe()}")
    click.echo(f"applied now: {', '.join(applied_now) if applied_now else 'none (up to date)'}")
    click.echo(f"versions on the database: {', '.join(on_db)}")


@command.command()
def info() -> None:
    """Where the database is and the psql command line to look inside (never the password)."""
    settings = load_settings_or_exit()
    conninfo = settings.postgres_conninfo()
    if settings.uses_embedded_database or conninfo is None:
        server = embedded_server_for(settings)
        state = "running" if server.is_running() else "not running (starts with any command)"
        click.echo(f"embedded PostgreSQL, {state}")
        click.echo(f"data directory: {server.pgdata}")
        click.echo(f"database: {describe_conninfo(server.conninfo(EMBEDDED_DBNAME))}")
        click.echo(f"psql: {server.psql_command(EMBEDDED_DBNAME)}")
        return
    click.echo(f"database: {describe_conninfo(conninfo)}")
    click.echo(f"psql: {bin_path('psql')} '{_public_url(conninfo)}'  (asks for the password)")


@command.command(context_settings={"ignore_unknown_options": True})
@click.argument("psql_args", nargs=-1, type=click.UNPROCESSED)
def psql(psql_args: tuple[str, ...]) -> None:
    """Open psql on the database (starts the embedded server if that is the one in use).

    Extra arguments go to psql, e.g. `stockpipe db psql -c 'SELECT count(*) FROM stock_data'`.
    """
    settings = load_settings_or_exit()
    configure_logging(settings)
    try:
        with Database.from_settings(settings, migrate=False, min_size=0) as db:
            conninfo = db.conninfo
    except DatabaseError as exc:
        exit_for_database("db psql", exc, settings)
    sys.stdout.flush()
    # The password travels in PGPASSWORD, not in argv where `ps` would show it to every user.
    params = conninfo_to_dict(conninfo)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    argv = ["psql", make_conninfo(**{k: str(v) for k, v in params.items()}), *psql_args]
    os.execvpe(str(bin_path("psql")), argv, env)  # noqa: S606


@command.command()
def stop() -> None:
    """Stop the embedded PostgreSQL server (its data stays for the next start)."""
    settings = load_settings_or_exit()
    configure_logging(settings)
    if not settings.uses_embedded_database:
        raise click.ClickException("the configured database is not the embedded one")
    server = embedded_server_for(settings)
    server.stop()
    click.echo(f"embedded PostgreSQL stopped; data kept in {server.pgdata}")


def _public_url(conninfo: str) -> str:
    return describe_conninfo(conninfo).replace("postgres://", "postgresql://", 1)
