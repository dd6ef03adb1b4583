"""The Halo Infinite API through SPNKr: credentials from the environment, one client, retries with backoff.

Every request goes through SPNKr's services (and so through SPNKr's per-service
rate limiter, `requests_per_second`); the film highlight chunk, which SPNKr
downloads with a bare `session.get` (spnkr/film/api.py), gets a limiter of its own.
The raw response bytes are returned exactly as received.

Status handling: 429, 5xx and connection errors are retried with exponential
backoff (honouring `Retry-After`); 401 stops the whole sync (`AuthError`);
400/403/404 are final for that resource (`NotAvailableError`) and never retried.
Tokens live only in the session headers: never in files, messages or logs.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiolimiter import AsyncLimiter
from spnkr import HaloInfiniteClient

from loader.core.errors import CredentialsMissingError, HaloError
from loader.core.settings import settings

ENV_SPARTAN = "HALO_SPARTAN_TOKEN"
ENV_CLEARANCE = "HALO_CLEARANCE_TOKEN"
ENV_CLIENT_ID = "HALO_AZURE_CLIENT_ID"
ENV_CLIENT_SECRET = "HALO_AZURE_CLIENT_SECRET"
ENV_REFRESH_TOKEN = "HALO_AZURE_REFRESH_TOKEN"
ENV_REDIRECT_URI = "HALO_AZURE_REDIRECT_URI"
EXPIRED_MESSAGE = "tokens expired or invalid: get new spartan/clearance tokens (see README)"
RETRY_STATUSES = frozenset({429}) | frozenset(range(500, 600))


class AuthError(HaloError):
    """The API answered 401, or the Azure refresh failed: the whole sync stops."""


class NotAvailableError(Exception):
    """400/403/404: the resource does not exist or is not ours to read; never retried."""

    def __init__(self, what: str, status: int) -> None:
        super().__init__(f"{what}: HTTP {status}")
        self.status = status


class TransientError(Exception):
    """429/5xx/connection errors that outlasted every retry; the next sync tries again."""


@dataclass(frozen=True)
class SyncOptions:
    """Knobs of a sync. `requests_per_second` is SPNKr's per-service limiter (its default is 5)."""

    requests_per_second: int = 5
    max_attempts: int = 5        # per request, for 429 / 5xx / connection errors
    backoff_base: float = 1.0    # seconds before the 2nd attempt; doubled each time
    backoff_max: float = 60.0    # also caps a server's Retry-After
    concurrency: int = 4         # matches fetched at once (the limiter still paces each service)

    @classmethod
    def from_env(cls) -> "SyncOptions":
        return cls(requests_per_second=settings.requests_per_second)


@dataclass(frozen=True)
class Tokens:
    spartan: str = field(repr=False)
    clearance: str = field(repr=False)


def _env(name: str) -> str:
    return settings.secret(name)


async def get_tokens(session: Any) -> Tokens:
    """Spartan + clearance tokens from the environment, or from SPNKr's Azure app refresh flow."""
    spartan, clearance = _env(ENV_SPARTAN), _env(ENV_CLEARANCE)
    if spartan and clearance:
        return Tokens(spartan, clearance)
    client_id, secret, refresh = _env(ENV_CLIENT_ID), _env(ENV_CLIENT_SECRET), _env(ENV_REFRESH_TOKEN)
    if client_id and secret and refresh:
        from spnkr.auth import AzureApp, refresh_player_tokens
        from spnkr.errors import OAuth2Error

        app = AzureApp(client_id, secret, _env(ENV_REDIRECT_URI) or "https://localhost")
        try:
            player = await refresh_player_tokens(session, app, refresh)
        except (OAuth2Error, aiohttp.ClientResponseError) as exc:
            status = getattr(exc, "status", None)
            raise AuthError(f"Azure app sign-in failed{f' (HTTP {status})' if status else ''}: the refresh token "
                            f"in {ENV_REFRESH_TOKEN} or the app's client id/secret is expired or invalid; "
                            "get a new refresh token (see README)") from None
        except (TimeoutError, aiohttp.ClientConnectionError) as exc:  # no network, DNS, a proxy or firewall
            host = getattr(exc, "host", None)
            raise AuthError(f"Azure app sign-in failed: could not reach the Microsoft sign-in service"
                            f"{f' ({host})' if host else ''}: {type(exc).__name__}; check the network connection, "
                            "then run halo sync again") from None
        return Tokens(player.spartan_token.token, player.clearance_token.token)
    raise CredentialsMissingError(
        f"no Halo API credentials: set {ENV_SPARTAN} and {ENV_CLEARANCE}, or {ENV_CLIENT_ID}, {ENV_CLIENT_SECRET} "
        f"and {ENV_REFRESH_TOKEN} (optional {ENV_REDIRECT_URI}) for SPNKr's Azure app flow (see README)")


def new_session() -> aiohttp.ClientSession:
    """The HTTP session of a sync (tests replace this function to route requests to a local replay)."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))


@dataclass
class Counters:
    requests: int = 0
    retries: int = 0


class HaloApi:
    """SPNKr's client plus retry/backoff, returning raw bytes."""

    def __init__(self, session: Any, tokens: Tokens, options: SyncOptions) -> None:
        self.session = session
        self.options = options
        self.client = HaloInfiniteClient(session, tokens.spartan, tokens.clearance,
                                         requests_per_second=options.requests_per_second)
        self._blob_limiter = AsyncLimiter(1, 1 / options.requests_per_second)
        self.counters = Counters()

    async def fetch(self, what: str, call: Callable[[], Awaitable[Any]]) -> bytes:
        """Run one SPNKr request (`call` returns its response) with retries; the body as received."""
        options = self.options
        for attempt in range(1, options.max_attempts + 1):
            self.counters.requests += 1
            delay = min(options.backoff_base * 2 ** (attempt - 1), options.backoff_max)
            try:
                response = await call()
                return await response.read()
            except aiohttp.ClientResponseError as exc:
                if exc.status == 401:
                    raise AuthError(f"{EXPIRED_MESSAGE} (HTTP 401 on {what})") from None
                if exc.status not in RETRY_STATUSES:
                    raise NotAvailableError(what, exc.status) from None
                delay = _retry_after(exc.headers, delay, options.backoff_max)
                problem = f"HTTP {exc.status}"
            except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                problem = type(exc).__name__
            if attempt == options.max_attempts:
                raise TransientError(f"{what}: {problem} after {attempt} attempts")
            self.counters.retries += 1
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def fetch_blob(self, what: str, url: str) -> bytes:
        """A public blob (the film chunk), paced like the services."""
        async def call() -> Any:
            response = await self.session.get(url)
            await self._blob_limiter.acquire()
            response.raise_for_status()
            return response
        return await self.fetch(what, call)


def _retry_after(headers: Any, default: float, cap: float) -> float:
    value = (headers or {}).get("Retry-After") if headers is not None else None
    if value is None:
        return default
    try:
        return max(0.0, min(float(value), cap))
    except ValueError:
        return default
