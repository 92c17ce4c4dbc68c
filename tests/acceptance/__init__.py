"""Acceptance tests: the real bot over real HTTP against a fake Slack on 127.0.0.1."""
