"""Benchmarks for `make bench` (``python -m benchmarks``): figures printed, never asserted."""
