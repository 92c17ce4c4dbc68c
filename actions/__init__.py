"""Diagnostics, approval-gated remediations and the audit trail, testable without Slack."""
