"""Benchmarks run by hand: ``python -m bench.burst``, ``bench.scale``, ``bench.api_load``."""
