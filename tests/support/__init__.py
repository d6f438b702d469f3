"""Helpers shared by the tests and bench/."""
