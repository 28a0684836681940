"""The Definitions Dagster loads: `dagster code-server start -m stockpipe.definitions`."""

from __future__ import annotations

from stockpipe.defs import build_definitions
from stockpipe.settings import Settings, SettingsError

try:
    _settings = Settings.load()
except SettingsError as exc:
    # Shown as the code location's load error in the UI and by `dagster definitions validate`.
    raise SettingsError(f"stockpipe cannot load its Dagster definitions: {exc}") from None

defs = build_definitions(_settings)
