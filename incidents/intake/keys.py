"""The signing keys of an Entra ID tenant: fetched from its JWKS, cached, refreshed on rotation.

Entra ID rolls its keys now and then; a token signed with a key we have not seen yet names an
unknown ``kid``. That triggers one refresh, at most once per ``min_refresh`` seconds, so a stream
of made-up ``kid`` values cannot turn every request into a fetch. The whole set is also refreshed
every ``max_age`` seconds (Microsoft advises about a day); a failed scheduled refresh keeps the
keys in hand.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jwt import PyJWK
from jwt.exceptions import PyJWKError

log = logging.getLogger(__name__)

Fetch = Callable[[str], dict[str, Any]]  # URL -> its JSON document
MAX_DOCUMENT = 512 * 1024  # a JWKS or OpenID metadata document is a few KiB


class KeysUnavailable(Exception):
    """The tenant's keys could not be fetched (and none are cached)."""


def https_fetch(*, ca_bundle: Path | None = None, timeout: float = 5.0) -> Fetch:
    """A fetcher of JSON documents over HTTPS, trusting ``ca_bundle`` (else certifi's)."""
    try:
        import certifi

        default: str | None = certifi.where()
    except ImportError:  # pragma: no cover - certifi comes with the Azure SDK
        default = None
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else default)

    def fetch(url: str) -> dict[str, Any]:
        if not url.startswith("https://"):
            raise KeysUnavailable(f"refusing a key URL that is not https: {url}")
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=context) as resp:  # noqa: S310
                raw = resp.read(MAX_DOCUMENT + 1)
        except OSError as exc:
            raise KeysUnavailable(f"{url}: {type(exc).__name__}: {exc}") from exc
        if len(raw) > MAX_DOCUMENT:
            raise KeysUnavailable(f"{url}: document too large")
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise KeysUnavailable(f"{url}: not JSON") from exc
        if not isinstance(document, dict):
            raise KeysUnavailable(f"{url}: not a JSON object")
        return document

    return fetch


class KeySet:
    """RSA signing keys by ``kid`` from ``jwks_url``, or from ``metadata_url``'s ``jwks_uri``."""

    def __init__(
        self,
        *,
        fetch: Fetch,
        jwks_url: str | None = None,
        metadata_url: str | None = None,
        clock: Callable[[], float] = time.time,
        max_age: float = 24 * 3600,
        min_refresh: float = 60.0,
    ) -> None:
        if not (jwks_url or metadata_url):
            raise ValueError("a JWKS URL or an OpenID metadata URL is needed")
        self._fetch, self._clock = fetch, clock
        self._jwks_url, self._metadata_url = jwks_url, metadata_url
        self._max_age, self._min_refresh = max_age, min_refresh
        self._keys: dict[str, PyJWK] = {}
        self._loaded_at: float | None = None
        self._forced_at: float | None = None  # last refresh an unknown kid asked for
        self._lock = threading.Lock()
        self.fetches = 0  # JWKS documents fetched so far (for tests and logs)

    def get(self, kid: str) -> PyJWK | None:
        """The key named ``kid``; None when the tenant does not publish it (after at most one
        rate-limited refresh). Raises KeysUnavailable when no keys could be had at all."""
        with self._lock:
            now = self._clock()
            if self._loaded_at is None:
                self._load(now)
            elif now - self._loaded_at >= self._max_age:
                self._reload_quietly(now)
            if kid in self._keys:
                return self._keys[kid]
            if self._forced_at is not None and now - self._forced_at < self._min_refresh:
                return None
            self._forced_at = now
            self._reload_quietly(now)
            return self._keys.get(kid)

    def _reload_quietly(self, now: float) -> None:
        try:
            self._load(now)
        except KeysUnavailable as exc:  # keep what we have; the next round tries again
            log.warning("could not refresh the tenant's signing keys", extra={"error": str(exc)})

    def _load(self, now: float) -> None:
        url = self._jwks_url or self._discover()
        document = self._fetch(url)
        self.fetches += 1
        keys: dict[str, PyJWK] = {}
        for jwk in document.get("keys") or []:
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not jwk.get("kid"):
                continue
            if jwk.get("use", "sig") != "sig":
                continue
            try:
                keys[str(jwk["kid"])] = PyJWK(jwk, algorithm="RS256")
            except PyJWKError:
                log.warning("skipped a malformed signing key", extra={"kid": str(jwk["kid"])})
        if not keys:
            raise KeysUnavailable(f"{url}: no RSA signing keys")
        self._keys, self._loaded_at = keys, now

    def _discover(self) -> str:
        assert self._metadata_url is not None
        jwks_uri = self._fetch(self._metadata_url).get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith("https://"):
            raise KeysUnavailable(f"{self._metadata_url}: no https jwks_uri")
        return jwks_uri
