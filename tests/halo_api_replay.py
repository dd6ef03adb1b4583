"""A local replay of the Halo Infinite API for sync tests: recorded responses served over HTTP on 127.0.0.1.

- `ReplayServer`: an aiohttp web server in a background thread (port 0 on
  127.0.0.1). A request for `https://<host>/<path>` arrives as
  `http://127.0.0.1:<port>/<host>/<path>`; routes are keyed by (host, path) and
  answer either recorded bytes (served exactly as stored) or a scripted status
  sequence (e.g. 429 then 200). Every request is logged (host, path, query,
  whether the tokens were right). Service hosts answer 401 to wrong tokens, as
  the API does; the blob host (film chunks) is public.
- `RoutedSession`: what the sync code gets instead of an `aiohttp.ClientSession`:
  a real ClientSession whose request URLs are rewritten to the replay server,
  so SPNKr's real services, models, rate limiter and `raise_for_status` run
  unchanged. Only 127.0.0.1 is ever contacted.

Test data written here (not recorded): the profile lookup, the film metadata
of the Oddball match (built from the recorded film metadata's layout with that
match's id, film version 38 and one highlight chunk), empty history pages past
the end, and history rows derived from match stats for matches "played since".
"""

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

LOOPBACK = "127.0.0.1"
STATS = "halostats.svc.halowaypoint.com"
SKILL = "skill.svc.halowaypoint.com"
UGC = "discovery-infiniteugc.svc.halowaypoint.com"
BLOBS = "blobs-infiniteugc.svc.halowaypoint.com"
PROFILE = "profile.svc.halowaypoint.com"
ECONOMY = "economy.svc.halowaypoint.com"
GAMECMS = "gamecms-hacs.svc.halowaypoint.com"
SETTINGS = "settings.svc.halowaypoint.com"
LOGIN, XBL_USER, XBL_XSTS = "login.live.com", "user.auth.xboxlive.com", "xsts.auth.xboxlive.com"
PUBLIC_HOSTS = {BLOBS, SETTINGS, LOGIN, XBL_USER, XBL_XSTS}   # no spartan/clearance tokens checked there


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass(frozen=True)
class Logged:
    host: str
    path: str
    query: dict[str, list[str]]
    authorised: bool
    status: int


Handler = Callable[[str, dict[str, list[str]]], Reply]


class ReplayServer:
    def __init__(self, spartan: str, clearance: str) -> None:
        self.spartan, self.clearance = spartan, clearance
        self.routes: dict[tuple[str, str], Reply | list[Reply] | Handler] = {}
        self.prefix_routes: list[tuple[str, str, Reply]] = []
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self.port = 0

    # -- routes -----------------------------------------------------------------------------------------------
    def add(self, host: str, path: str, reply: Reply | list[Reply] | Handler) -> None:
        """A fixed reply, a script (each request takes the next reply; the last one repeats) or a handler."""
        self.routes[(host, path)] = list(reply) if isinstance(reply, list) else reply

    def add_prefix(self, host: str, prefix: str, reply: Reply) -> None:
        self.prefix_routes.append((host, prefix, reply))

    def requests(self, host: str | None = None, path: str | None = None) -> list[Logged]:
        with self._lock:
            return [r for r in self.log if (host is None or r.host == host) and (path is None or r.path == path)]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def _reply(self, host: str, path: str, query: dict[str, list[str]]) -> Reply:
        route = self.routes.get((host, path))
        if isinstance(route, list):
            with self._lock:
                return route.pop(0) if len(route) > 1 else route[0]
        if isinstance(route, Reply):
            return route
        if route is not None:
            return route(path, query)
        for prefix_host, prefix, reply in self.prefix_routes:
            if host == prefix_host and path.startswith(prefix):
                return reply
        return Reply(404)

    async def _handle(self, request: web.Request) -> web.Response:
        host = request.match_info["host"]
        path = "/" + request.match_info["tail"]
        query: dict[str, list[str]] = {}
        for key, value in request.query.items():
            query.setdefault(key, []).append(value)
        authorised = (request.headers.get("x-343-authorization-spartan") == self.spartan
                      and request.headers.get("343-clearance") == self.clearance)
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            for key, value in (await request.post()).items():
                query.setdefault(f"form:{key}", []).append(str(value))
        reply = Reply(401) if not authorised and host not in PUBLIC_HOSTS else self._reply(host, path, query)
        with self._lock:
            self.log.append(Logged(host, path, query, authorised, reply.status))
        return web.Response(status=reply.status, body=reply.body, headers=reply.headers,
                            content_type=reply.content_type if reply.body else None)

    # -- lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> "ReplayServer":
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="halo-api-replay", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{host}/{tail:.*}", self._handle)
        app.router.add_route("POST", "/{host}/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, LOOPBACK, 0).start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def session(self) -> "RoutedSession":
        return RoutedSession(self.port)


class RoutedSession:
    """An aiohttp ClientSession whose every request goes to the replay server on 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._session = aiohttp.ClientSession()

    @property
    def headers(self) -> Any:   # SPNKr's set_tokens updates these in place
        return self._session.headers

    def route(self, url: str | URL) -> URL:
        original = URL(url)
        routed = URL.build(scheme="http", host=LOOPBACK, port=self._port,
                           path=f"/{original.host}{original.path}", query=original.query)
        assert routed.host == LOOPBACK
        return routed

    def get(self, url: str | URL, **kwargs: Any) -> Any:
        return self._session.get(self.route(url), **kwargs)

    def post(self, url: str | URL, **kwargs: Any) -> Any:
        return self._session.post(self.route(url), **kwargs)

    async def close(self) -> None:
        await self._session.close()

    async def __aenter__(self) -> "RoutedSession":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


# -- test data builders (derived from the recorded samples at test time) ---------------------------------------

def json_reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(payload).encode())


def profile_reply(xuid: int, gamertag: str) -> Reply:
    """Test data: the profile service's answer for a gamertag lookup (shape of spnkr.models.profile.User)."""
    pic = "https://example.invalid/gamerpic.png"
    return json_reply({"xuid": str(xuid), "gamertag": gamertag,
                       "gamerpic": {"small": pic, "medium": pic, "large": pic, "xlarge": pic}})


def film_metadata(template: dict, match_id: str, version: int) -> dict:
    """Test data: film metadata for `match_id` in the recorded layout, ending with one highlight chunk (type 3)."""
    film = json.loads(json.dumps(template))
    film["CustomData"]["MatchId"] = match_id
    film["CustomData"]["FilmMajorVersion"] = version
    film["CustomData"]["Chunks"] = [c for c in film["CustomData"]["Chunks"] if c["ChunkType"] != 2][-2:]
    film["BlobStoragePathPrefix"] = f"https://{BLOBS}/ugcstorage/film/test-{match_id}/"
    return film


def history_row(stats: dict, player_id: str) -> dict:
    """Test data: the match-history row of `player_id` for a match, derived from its match stats."""
    player = next(p for p in stats["Players"] if p["PlayerId"] == player_id)
    return {"MatchId": stats["MatchId"], "MatchInfo": stats["MatchInfo"], "LastTeamId": player.get("LastTeamId"),
            "Outcome": player["Outcome"], "Rank": player["Rank"],
            "PresentAtEndOfMatch": player["ParticipationInfo"]["PresentAtCompletion"]}


def history_handler(rows: list[dict], recorded_first_page: bytes | None = None) -> Handler:
    """Pages of 25 over `rows`, newest first; the recorded first page is served as is while it still matches."""
    def handle(path: str, query: dict[str, list[str]]) -> Reply:
        start = int(query.get("start", ["0"])[0])
        count = int(query.get("count", ["25"])[0])
        page = rows[start:start + count]
        if recorded_first_page is not None and start == 0:
            recorded = json.loads(recorded_first_page)
            if [r["MatchId"] for r in recorded["Results"]] == [r["MatchId"] for r in page]:
                return Reply(200, recorded_first_page)
        return json_reply({"Start": start, "Count": count, "ResultCount": len(page), "Results": page, "Links": {}})
    return handle


def azure_sign_in(server: ReplayServer, refresh_token: str, xuid: int, gamertag: str) -> None:
    """Test data: SPNKr's Azure app flow (OAuth refresh, Xbox user + XSTS tokens, spartan + clearance tokens),
    answering with the server's own tokens when the refresh token is the expected one, else OAuth's 400."""
    def oauth(path: str, query: dict[str, list[str]]) -> Reply:
        if query.get("form:refresh_token") != [refresh_token]:
            return json_reply({"error": "invalid_grant", "error_description": "The refresh token has expired."}, 400)
        return json_reply({"token_type": "bearer", "expires_in": 3600, "scope": "Xboxlive.signin",
                           "access_token": "test-access", "refresh_token": "test-refresh-next", "user_id": "u"})

    claims = {"xui": [{"uhs": "test-userhash", "xid": str(xuid), "gtg": gamertag}]}
    server.add(LOGIN, "/oauth20_token.srf", oauth)
    server.add(XBL_USER, "/user/authenticate", json_reply({"Token": "test-user-token", "DisplayClaims": claims}))
    server.add(XBL_XSTS, "/xsts/authorize", json_reply({"Token": "test-xsts-token", "DisplayClaims": claims}))
    server.add(SETTINGS, "/spartan-token", json_reply(
        {"SpartanToken": server.spartan, "ExpiresUtc": {"ISO8601Date": "2099-01-01T00:00:00+00:00"}}))
    server.add(SETTINGS, "/oban/flight-configurations/titles/hi/audiences/RETAIL/active",
               json_reply({"FlightConfigurationId": server.clearance}))
