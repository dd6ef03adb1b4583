"""Benchmarks: `python -m bench` (see BENCHMARKS.md). Not part of the installed package; needs the `bench` extra."""
