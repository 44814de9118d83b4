"""Shipped lists of feeds (JSON), subscribed with ``tidings add --preset``."""
