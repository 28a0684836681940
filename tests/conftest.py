"""Shared fixtures come from plugins so each layer's fixtures live beside its tests."""

from importlib.util import find_spec

pytest_plugins = [
    "tests.fixtures.environment",
    "tests.fixtures.postgres",
    "tests.fixtures.fake_alphavantage",
]
# The alert receivers need the dev extra's aiosmtpd and trustme, which .venv-airflow (the
# Airflow tests' own environment, `make test-airflow`) does not install.
if find_spec("aiosmtpd") and find_spec("trustme"):
    pytest_plugins.append("tests.fixtures.alert_receivers")
