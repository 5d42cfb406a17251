"""Outgoing webhooks: signed events (Standard Webhooks) for what the publish log records."""
