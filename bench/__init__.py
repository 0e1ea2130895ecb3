"""Benchmarks: each module is runnable with `python -m bench.<name>` and prints the figures BENCHMARKS.md quotes."""
