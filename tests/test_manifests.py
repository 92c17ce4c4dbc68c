"""The Slack app manifests in deploy/: valid against the schema of Slack's documented manifest
fields (tests/data/slack-manifest.schema.json), and declaring every event, shortcut, command and
scope the code uses (found by reading the code, not by a list kept beside it)."""

from __future__ import annotations

import ast
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from bot import ids

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = {
    "http": ROOT / "deploy" / "slack-manifest-http.yaml",
    "socket": ROOT / "deploy" / "slack-manifest-socket.yaml",
}
SCHEMA = json.loads((ROOT / "tests" / "data" / "slack-manifest.schema.json").read_text())

# The Events API subscriptions a Bolt event type arrives through, and the scope each needs.
SUBSCRIPTIONS = {"message": ("message.channels", "message.groups")}
EVENT_SCOPES = {
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "app_mention": "app_mentions:read",
    "reaction_added": "reactions:read",
    "app_home_opened": None,
}
# The scopes each Web API method the code calls needs (slack_sdk's method names).
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth_test": (),
    "chat_postMessage": ("chat:write",),
    "chat_postEphemeral": ("chat:write",),
    "chat_update": ("chat:write",),
    "chat_getPermalink": (),
    "users_info": ("users:read",),
    "usergroups_users_list": ("usergroups:read",),
    "users_conversations": ("channels:read", "groups:read"),
    "conversations_history": ("channels:history", "groups:history"),
    "conversations_replies": ("channels:history", "groups:history"),
    "views_open": (),
    "views_update": (),
    "views_publish": (),
}
NOT_METHODS = frozenset(
    {"base_url", "default_params", "metrics", "retry_handlers", "token", "logger", "timeout"}
)


def manifest(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFESTS[name].read_text())
    assert isinstance(loaded, dict)
    return loaded


def sources() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted((ROOT / "bot").rglob("*.py")):
        yield path, ast.parse(path.read_text(), str(path))


def _value(node: ast.expr) -> str:
    """A listener's first argument: a string, ``ids.NAME`` or ``{"type": "..."}``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        assert node.value.id == "ids", ast.unparse(node)
        return str(getattr(ids, node.attr))
    if isinstance(node, ast.Dict):
        found = dict(zip(node.keys, node.values, strict=True))
        key = next(k for k in found if isinstance(k, ast.Constant) and k.value == "type")
        return _value(found[key])
    raise AssertionError(f"cannot read the listener's argument {ast.unparse(node)}")


def registered(kind: str) -> set[str]:
    """What the code registers with ``app.<kind>(...)`` (events only acknowledged excluded)."""
    found: set[str] = set()
    for _path, tree in sources():
        skip = {
            id(n)
            for f in ast.walk(tree)
            if isinstance(f, ast.FunctionDef) and f.name == "_ignore_the_rest"
            for n in ast.walk(f)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == kind
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "app"
                and node.args
                and id(node) not in skip
            ):
                found.add(_value(node.args[0]))
    return found


def called_methods() -> set[str]:
    """Every Web API method the bot's code reaches through a ``client``."""
    found: set[str] = set()
    for _path, tree in sources():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "client"
                and "_" in node.attr
                and node.attr not in NOT_METHODS
            ):
                found.add(node.attr)
    return found


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_each_manifest_is_valid_against_slacks_manifest_schema(name: str) -> None:
    Draft202012Validator.check_schema(SCHEMA)
    errors = list(Draft202012Validator(SCHEMA).iter_errors(manifest(name)))
    assert errors == [], [f"{list(e.absolute_path)}: {e.message}" for e in errors]


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (("features", "shortcuts", 0, "name"), "Explain this Azure Backup error now"),  # > 24
        (("features", "shortcuts", 0, "type"), "message_action"),
        (("features", "app_home", "home_tab"), True),  # a misspelt key
        (("settings", "interactivity", "is_enabled"), "yes"),
        (("display_information", "name"), "x" * 36),
    ],
)
def test_the_schema_refuses_what_slack_refuses(path: tuple[Any, ...], bad: Any) -> None:
    broken = copy.deepcopy(manifest("http"))
    target: Any = broken
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = bad
    assert list(Draft202012Validator(SCHEMA).iter_errors(broken))


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_every_event_shortcut_and_command_the_code_registers_is_declared(name: str) -> None:
    m = manifest(name)
    events = set(m["settings"]["event_subscriptions"]["bot_events"])
    for event in registered("event"):
        for subscription in SUBSCRIPTIONS.get(event, (event,)):
            assert subscription in events, f"{event} registered but {subscription} not declared"
    shortcuts = {s["callback_id"]: s for s in m["features"]["shortcuts"]}
    assert registered("shortcut") == set(shortcuts)
    assert shortcuts[ids.EXPLAIN]["type"] == "message"
    commands = {c["command"] for c in m["features"]["slash_commands"]}
    assert registered("command") == commands
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    assert m["settings"]["interactivity"]["is_enabled"] is True


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_every_scope_the_code_needs_is_declared(name: str) -> None:
    m = manifest(name)
    scopes = set(m["oauth_config"]["scopes"]["bot"])
    methods = called_methods()
    unknown = methods - set(METHOD_SCOPES)
    assert not unknown, f"classify these Web API methods in METHOD_SCOPES: {sorted(unknown)}"
    needed = {s for method in methods for s in METHOD_SCOPES[method]}
    needed |= {
        s for e in m["settings"]["event_subscriptions"]["bot_events"] if (s := EVENT_SCOPES[e])
    }
    if registered("command"):
        needed.add("commands")
    assert needed <= scopes, f"missing scopes: {sorted(needed - scopes)}"
    assert {"views_publish", "conversations_history", "chat_postEphemeral"} <= methods


def test_the_two_manifests_differ_only_in_how_slack_reaches_the_bot() -> None:
    http, socket = manifest("http"), manifest("socket")
    assert http["settings"]["socket_mode_enabled"] is False
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in socket["settings"]["event_subscriptions"]
    for m in (http, socket):
        m["settings"].pop("socket_mode_enabled")
        for section in (m["settings"]["event_subscriptions"], m["settings"]["interactivity"]):
            section.pop("request_url", None)
        for command in m["features"]["slash_commands"]:
            command.pop("url", None)
    assert http == socket
