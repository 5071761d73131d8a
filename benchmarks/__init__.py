"""Benchmarks for `make bench` (``python -m benchmarks``): figures printed, never asserted; and the
synthetic large-account generator they (and the scale tests) run on (:mod:`benchmarks.synthetic`)."""
