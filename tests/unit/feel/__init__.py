"""Unit tests of the FEEL evaluator (adapters/zeebe/feel)."""
