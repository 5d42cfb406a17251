"""Observability: Prometheus metrics, structured JSON logs and per-request ids.

Kept apart from the features so that logging and metrics never decide anything: a failure in
here is logged and swallowed, and never fails a request or a publish.
"""
