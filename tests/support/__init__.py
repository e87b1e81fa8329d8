"""Test-only helpers shipped with the test suite (the probe adapter)."""
