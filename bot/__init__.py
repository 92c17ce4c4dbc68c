"""The Slack app and the ``backup-fix`` command line."""
