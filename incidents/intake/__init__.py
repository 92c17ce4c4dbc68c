"""``POST /azure/alerts``: Azure Monitor alerts in, authenticated, parsed, stored.

* ``auth``: the URL token and Entra ID secure-webhook tokens (``keys``: the tenant's JWKS);
* ``schema``: the Common Alert Schema read into a ``JobOutcome`` (Azure Backup alerts only);
* ``handler``: the WSGI app: bounded body, 202 once in the inbox (``incidents.inbox``).

``build`` wires them from plain values; ``bot`` passes its settings in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from incidents.intake.auth import Authenticator, EntraVerifier, metadata_url
from incidents.intake.handler import WsgiApp, make_intake
from incidents.intake.keys import KeySet, https_fetch


def vault_allow_list(vaults: Iterable[str]) -> Callable[[str], bool]:
    """``in_scope`` for a list of vault ids (compared case-insensitively: alerts lower-case)."""
    allowed = frozenset(vault.strip().lower() for vault in vaults)
    return lambda vault_id: vault_id.strip().lower() in allowed


def build(
    *,
    engine: Engine,
    registry: CollectorRegistry,
    in_scope: Callable[[str], bool],
    token: str | None = None,
    tenant: str | None = None,
    audiences: tuple[str, ...] = (),
    jwks_url: str | None = None,
    cloud: str = "AzureCloud",
    ca_bundle: Path | None = None,
) -> WsgiApp | None:
    """The intake app, or None when neither the token nor a tenant is configured."""
    entra = None
    if tenant and audiences:
        keys = KeySet(
            fetch=https_fetch(ca_bundle=ca_bundle),
            jwks_url=jwks_url,
            metadata_url=None if jwks_url else metadata_url(tenant, cloud),
        )
        entra = EntraVerifier(tenant=tenant, audiences=audiences, keys=keys, cloud=cloud)
    auth = Authenticator(token=token or None, entra=entra)
    if not auth.configured:
        return None
    return make_intake(auth, engine, in_scope=in_scope, registry=registry)


__all__ = ["build", "make_intake", "vault_allow_list"]
