"""A fake Entra ID tenant over HTTPS on 127.0.0.1: OpenID metadata, JWKS, and tokens it signs.

It publishes the public halves of its RSA keys at ``jwks_url`` (and ``metadata_url`` names that
URL as ``jwks_uri``), and mints secure-webhook-shaped access tokens with ``token()``: claims like
the ones Entra ID puts in a token for an action group (``iss``, ``aud``, ``tid``, ``roles``,
``exp``...), any of which a test may change or drop. ``rotate()`` adds a key, ``forget()`` stops
publishing one; ``fetches`` counts the JWKS downloads.

The certificate comes from a ``trustme`` CA written to ``ca_bundle``: set ``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes.tls import TlsServer

AZNS_APP = "461e8683-5575-4561-ac7f-899cc907d62a"  # "AZNS Microsoft Entra Webhook"
ROLE = "ActionGroupsSecureWebhook"


def new_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeTenant:
    """One tenant's issuer: keys by kid, published or not, and a token minter."""

    def __init__(self, *, tenant: str | None = None, audience: str = "api://backup-fix") -> None:
        self.tenant = tenant or str(uuid.uuid4())
        self.audience = audience
        self.fetches = 0
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        self._published: list[str] = []
        self._lock = threading.Lock()
        self.kid = self.rotate()
        self._tls = TlsServer(self._handler(), prefix="fake-oidc-")
        self.ca_bundle = self._tls.ca_bundle

    # Life cycle
    @property
    def url(self) -> str:
        """The authority's base URL."""
        return self._tls.url

    @property
    def jwks_url(self) -> str:
        """Where the keys are (the value for BACKUP_FIX_ALERT_JWKS_URL)."""
        return f"{self.url}/{self.tenant}/discovery/v2.0/keys"

    @property
    def metadata_url(self) -> str:
        """The tenant's OpenID Connect metadata document."""
        return f"{self.url}/{self.tenant}/v2.0/.well-known/openid-configuration"

    def start(self) -> FakeTenant:
        """Start serving in a thread."""
        self._tls.start()
        return self

    def stop(self) -> None:
        """Stop serving and remove the CA bundle."""
        self._tls.stop()

    def __enter__(self) -> FakeTenant:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()

    # Keys
    def rotate(self, *, publish: bool = True) -> str:
        """Add a new signing key (published unless told otherwise); its kid."""
        kid = uuid.uuid4().hex[:16]
        with self._lock:
            self._keys[kid] = new_key()
            if publish:
                self._published.append(kid)
        return kid

    def publish(self, kid: str) -> None:
        """Start publishing a key made with ``rotate(publish=False)``."""
        with self._lock:
            if kid not in self._published:
                self._published.append(kid)

    def forget(self, kid: str) -> None:
        """Stop publishing ``kid`` (its tokens no longer verify once keys are refreshed)."""
        with self._lock:
            self._published.remove(kid)

    def jwks(self) -> dict[str, Any]:
        """The published keys as a JWKS document."""
        with self._lock:
            keys = []
            for kid in self._published:
                jwk = json.loads(RSAAlgorithm.to_jwk(self._keys[kid].public_key()))
                keys.append({**jwk, "kid": kid, "use": "sig", "kty": "RSA"})
        return {"keys": keys}

    # Tokens
    def claims(self, *, version: str = "1.0") -> dict[str, Any]:
        """The claims of a valid secure-webhook token (v1 issuer unless ``version="2.0"``)."""
        now = int(time.time())
        issuer = (
            f"https://login.microsoftonline.com/{self.tenant}/v2.0"
            if version == "2.0"
            else f"https://sts.windows.net/{self.tenant}/"
        )
        app = {"azp": AZNS_APP} if version == "2.0" else {"appid": AZNS_APP}
        return {
            "aud": self.audience,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "tid": self.tenant,
            "roles": [ROLE],
            "oid": str(uuid.uuid4()),
            "sub": str(uuid.uuid4()),
            "ver": version,
            **app,
        }

    def token(
        self,
        *,
        kid: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        version: str = "1.0",
        **changes: Any,
    ) -> str:
        """A token signed with ``kid``'s key (or ``key``, a forger's); ``changes`` override
        claims, and a change to ``None`` drops the claim."""
        claims = self.claims(version=version)
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        kid = kid or self.kid
        signer = key or self._keys[kid]
        return jwt.encode(claims, signer, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == f"/{fake.tenant}/discovery/v2.0/keys":
                    with fake._lock:
                        fake.fetches += 1
                    self._send(200, fake.jwks())
                elif self.path == f"/{fake.tenant}/v2.0/.well-known/openid-configuration":
                    self._send(
                        200,
                        {
                            "issuer": f"https://login.microsoftonline.com/{fake.tenant}/v2.0",
                            "jwks_uri": fake.jwks_url,
                            "id_token_signing_alg_values_supported": ["RS256"],
                        },
                    )
                else:
                    self._send(404, {"error": "not_found"})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
