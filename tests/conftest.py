"""Shared fixtures come from plugins so each layer's fixtures live beside its tests."""

pytest_plugins = [
    "tests.fixtures.environment",
    "tests.fixtures.postgres",
    "tests.fixtures.fake_alphavantage",
    "tests.fixtures.alert_receivers",
]
