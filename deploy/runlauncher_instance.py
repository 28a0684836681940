"""Writes the daemon's instance for docker-compose.runlauncher.yml when the daemon starts:
deploy/dagster-runlauncher.yaml, with every stockpipe setting set in this environment added to
the run launcher's `env_vars`.

Why at start-up: DockerRunLauncher copies each listed variable from the daemon's environment
into a run's container, and refuses to launch when one is unset ("Tried to load environment
variable ..., but it was not set"). Which settings are set depends on the user's .env, so the
list is made where that is known. Names only, never values: the values stay in the environment.

    python runlauncher_instance.py TEMPLATE TARGET
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from stockpipe.settings import Settings


def setting_names() -> list[str]:
    return sorted(str(field.validation_alias) for field in Settings.model_fields.values())


def with_settings(instance: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """`instance` with the set settings appended to the launcher's env_vars (in place)."""
    config = instance["run_launcher"]["config"]
    fixed = list(config.get("env_vars", []))
    config["env_vars"] = fixed + [n for n in setting_names() if n in environ and n not in fixed]
    return instance


def main(argv: list[str]) -> None:
    template, target = map(Path, argv)
    instance = with_settings(yaml.safe_load(template.read_text()), os.environ)
    # The image's dagster.yaml belongs to root; its directory to us: replace, not overwrite.
    partial = target.with_name(target.name + ".new")
    partial.write_text(yaml.safe_dump(instance, sort_keys=False))
    os.replace(partial, target)


if __name__ == "__main__":
    main(sys.argv[1:])
