"""Prometheus counters on the app's own registry (no global state shared between test apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Slack answers in tens of milliseconds; Resource Manager writes and throttled retries take seconds.
CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """What /metrics reports: events, matches, replies, feedback, actions, Slack and Azure calls."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.events = Counter("backup_fix_events", "Slack requests received", ["kind"], registry=r)
        self.matches = Counter(
            "backup_fix_matches", "Confident matches by code", ["code"], registry=r
        )
        self.unmatched = Counter(
            "backup_fix_unmatched_pastes",
            "Pastes with no confident match (command, mention) or suggestions only (channel)",
            ["source"],
            registry=r,
        )
        self.replies = Counter("backup_fix_replies", "Replies sent", ["kind"], registry=r)
        self.feedback = Counter(
            "backup_fix_feedback", "Feedback votes", ["code", "helpful"], registry=r
        )
        self.slack_errors = Counter(
            "backup_fix_slack_call_errors", "Failed Slack Web API calls", ["method"], registry=r
        )
        self.slack_seconds = Histogram(
            "backup_fix_slack_call_seconds",
            "Slack Web API call latency",
            ["method"],
            buckets=CALL_BUCKETS,
            registry=r,
        )
        self.azure_seconds = Histogram(
            "backup_fix_azure_call_seconds",
            "Resource Manager request latency (each attempt)",
            ["operation", "status_class"],
            buckets=CALL_BUCKETS,
            registry=r,
        )
        self.azure_errors = Counter(
            "backup_fix_azure_call_errors",
            "Resource Manager requests answered 4xx/5xx or not answered",
            ["operation", "status_class"],
            registry=r,
        )
        self.errors = Counter(
            "backup_fix_listener_errors", "Listener failures", ["listener"], registry=r
        )
        # Issue 4: remediations through the approval gate, by action name.
        self.actions_requested = Counter(
            "backup_fix_actions_requested", "Remediation requests", ["action"], registry=r
        )
        self.actions_approved = Counter(
            "backup_fix_actions_approved", "Remediation approvals", ["action"], registry=r
        )
        self.actions_executed = Counter(
            "backup_fix_actions_executed", "Remediations that succeeded", ["action"], registry=r
        )
        self.actions_failed = Counter(
            "backup_fix_actions_failed", "Remediations that failed", ["action"], registry=r
        )
        self.diagnostics = Counter(
            "backup_fix_diagnostics_run", "Diagnostics run", ["action"], registry=r
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
