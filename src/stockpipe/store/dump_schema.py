"""Write init_db.sql: every migration in order plus their bookkeeping rows, in one transaction.

A database made from this file (e.g. by the postgres image's /docker-entrypoint-initdb.d) has
the schema the migrations produce and records them as applied, so the application's start-up
migration finds nothing to do. Regenerate after adding a migration:
`python -m stockpipe.store.dump_schema` (or `make init-db-sql`); a test fails while it is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stockpipe.store.migrate import MIGRATIONS_TABLE, MIGRATIONS_TABLE_DDL, available_migrations

HEADER = """\
-- stockpipe database schema. GENERATED from src/stockpipe/store/migrations/ by
-- `python -m stockpipe.store.dump_schema`: do not edit by hand, add a migration instead.
-- Applying it records the migrations as applied, so stockpipe's start-up migration agrees.
"""


def render_init_sql() -> str:
    parts = [HEADER, "\nBEGIN;\n\n", MIGRATIONS_TABLE_DDL, "\n"]
    for migration in available_migrations():
        parts.append(f"\n-- {migration.version}_{migration.name}.sql\n")
        parts.append(migration.sql.rstrip() + "\n")
        parts.append(
            f"INSERT INTO {MIGRATIONS_TABLE} (version, name, checksum) VALUES "
            f"('{migration.version}', '{migration.name}', '{migration.checksum}');\n"
        )
    parts.append("\nCOMMIT;\n")
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("path", nargs="?", default="init_db.sql", type=Path)
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)
    text = render_init_sql()
    if args.check:
        current = args.path.read_text() if args.path.exists() else ""
        if current != text:
            sys.stderr.write(f"{args.path} is stale: run python -m stockpipe.store.dump_schema\n")
            return 1
        return 0
    args.path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
