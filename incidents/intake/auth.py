"""Who may post alerts: a secret in the URL, an Entra ID secure-webhook token, or either.

A plain action-group webhook cannot send headers, so its secret rides in the URL (``?token=``)
and is compared in constant time. A secure webhook sends ``Authorization: Bearer <JWT>`` issued
by the operator's tenant to the "AZNS Microsoft Entra Webhook" app: RS256 from the tenant's keys,
the tenant's issuer (v1 or v2 form), our audience, the ``ActionGroupsSecureWebhook`` role, and a
live ``exp``/``nbf``. Any action group in the tenant gets such a token, so the vault scope still
decides what is kept (see ``schema``).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import jwt

from incidents.intake.keys import KeySet, KeysUnavailable

ROLE = "ActionGroupsSecureWebhook"
LEEWAY = 60.0  # seconds of clock skew allowed on exp and nbf
MAX_TOKEN = 8192  # an Entra access token is 1-3 KiB; anything far bigger is not one

# Token issuers per cloud: v1 (sts) and v2 (login) forms. The global ones are from Microsoft's
# access-token reference; the national clouds' are from its national-cloud page (not seen on a
# real secure-webhook token).
_ISSUERS = {
    "AzureCloud": ("https://sts.windows.net/{t}/", "https://login.microsoftonline.com/{t}/v2.0"),
    "AzureUSGovernment": (
        "https://login.microsoftonline.us/{t}/",
        "https://login.microsoftonline.us/{t}/v2.0",
    ),
    "AzureChinaCloud": (
        "https://sts.chinacloudapi.cn/{t}/",
        "https://login.partner.microsoftonline.cn/{t}/v2.0",
    ),
}
_AUTHORITY = {
    "AzureCloud": "https://login.microsoftonline.com",
    "AzureUSGovernment": "https://login.microsoftonline.us",
    "AzureChinaCloud": "https://login.partner.microsoftonline.cn",
}


class Unauthenticated(Exception):
    """The request proves nothing; ``str()`` says why (for the log, never the token)."""


def metadata_url(tenant: str, cloud: str = "AzureCloud") -> str:
    """The tenant's OpenID Connect (v2.0) metadata document."""
    return f"{_AUTHORITY[cloud]}/{tenant}/v2.0/.well-known/openid-configuration"


def issuers(tenant: str, cloud: str = "AzureCloud") -> tuple[str, ...]:
    """The ``iss`` values a token of ``tenant`` may carry."""
    return tuple(form.format(t=tenant) for form in _ISSUERS[cloud])


@dataclass(frozen=True)
class EntraVerifier:
    """Checks a secure-webhook bearer token of one tenant for one audience."""

    tenant: str
    audiences: tuple[str, ...]
    keys: KeySet
    cloud: str = "AzureCloud"
    clock: Callable[[], float] = time.time

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; Unauthenticated when any check fails, KeysUnavailable when the
        tenant's keys cannot be had."""
        if len(token) > MAX_TOKEN:
            raise Unauthenticated("token too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"not a JWT: {type(exc).__name__}") from exc
        if header.get("alg") != "RS256":
            raise Unauthenticated(f"algorithm {header.get('alg')!r} is not RS256")
        key = self.keys.get(str(header.get("kid") or ""))
        if key is None:
            raise Unauthenticated("signed with a key the tenant does not publish")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=list(self.audiences),
                issuer=list(issuers(self.tenant, self.cloud)),
                # Time is checked below against the injected clock.
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "require": ["exp", "iss", "aud"],
                },
            )
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"{type(exc).__name__}: {exc}") from exc
        self._check_claims(claims)
        return claims

    def _check_claims(self, claims: dict[str, Any]) -> None:
        now = self.clock()
        if not _number(claims.get("exp")) or now > float(claims["exp"]) + LEEWAY:
            raise Unauthenticated("expired")
        nbf = claims.get("nbf")
        if nbf is not None and (not _number(nbf) or now < float(nbf) - LEEWAY):
            raise Unauthenticated("not valid yet")
        tid = claims.get("tid")
        if tid is not None and str(tid).lower() != self.tenant.lower():
            raise Unauthenticated("another tenant's token")
        roles = claims.get("roles")
        if not isinstance(roles, list) or ROLE not in roles:
            raise Unauthenticated(f"no {ROLE} role")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Authenticator:
    """Either configured proof suffices: the URL token, or a valid bearer token."""

    token: str | None = None
    entra: EntraVerifier | None = None

    @property
    def configured(self) -> bool:
        """False when neither way is set up: the endpoint does not exist then."""
        return bool(self.token) or self.entra is not None

    def check(self, environ: dict[str, Any]) -> str:
        """How the request proved itself (``"token"`` or ``"entra"``); Unauthenticated else."""
        reasons: list[str] = []
        if self.token:
            given = _query_tokens(environ.get("QUERY_STRING", ""))
            if any(_same(candidate, self.token) for candidate in given):
                return "token"
            reasons.append("wrong URL token" if given else "no URL token")
        if self.entra is not None:
            auth = str(environ.get("HTTP_AUTHORIZATION") or "")
            scheme, _, bearer = auth.partition(" ")
            if scheme.lower() == "bearer" and bearer.strip():
                try:
                    self.entra.verify(bearer.strip())
                except Unauthenticated as exc:
                    reasons.append(f"bearer: {exc}")
                else:
                    return "entra"
            else:
                reasons.append("no bearer token")
        raise Unauthenticated("; ".join(reasons))


def _query_tokens(query: str) -> Iterable[str]:
    return parse_qs(query, keep_blank_values=True).get("token", [])[:4]


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


__all__ = ["Authenticator", "EntraVerifier", "KeysUnavailable", "Unauthenticated", "issuers"]
