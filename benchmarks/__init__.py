"""Benchmarks: ``python -m benchmarks [--quick]`` prints the figures (medians of several runs)."""
