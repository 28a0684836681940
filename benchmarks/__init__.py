"""Benchmarks: speed claims with the command that measures them (not tests)."""
