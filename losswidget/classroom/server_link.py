"""A class on a tracking server: the link a teacher hands out, and one call to the server's HTTP API.

Why trackio's self-hosted server (checked against trackio 0.43.0, the one the outputs already speak
to) is the class's destination for students whose machines share no disk:

- It is free, runs on one machine with one command (``trackio show --host 0.0.0.0``: a uvicorn app
  over SQLite files in ``TRACKIO_DIR``), and keeps every run across a restart.
- Its HTTP API is plain JSON (``POST /api/<name>`` with ``{"kwargs": {...}}``, an answer
  ``{"data": ...}`` or ``{"error": "..."}``), so a student needs nothing but the standard library:
  ``bulk_log`` writes, and the reads need no token: ``get_runs_for_project``, ``get_run_configs``,
  ``get_logs_batch`` (up to 64 runs and 10,000 rows each in one call), ``get_all_projects``.
- Writes need its write token (``X-Trackio-Write-Token``; ``TRACKIO_WRITE_TOKEN`` when it starts,
  else a random one it prints): a wrong token is refused with words. ``get_run_mutation_status``
  says whether a token may write without writing anything.
- A record sent twice is kept once (``log_id``: ``INSERT OR IGNORE``), so a batch whose answer was
  lost can be sent again: a restarted server or a network gone for a minute loses nothing.

What it cannot do, and what stands in for it: the write token is one for the whole server (no
token per student), so whoever holds it may write, rename or delete any run; the teacher's view
therefore never forgets a run it has read (a run deleted on the server stays in the view, said), and
``docs/teaching.md`` says how to keep the token off the projector. The server makes any project
that is written to, so a student sending to a mistyped class is refused by us: a class is open once
the teacher, holding the token, has opened it (``lw.open_class``: a run named :data:`OPENED`). The
reads are not incremental: a poll reads a running student's whole run again (a finished run every
30 s), and a run past 10,000 records is thinned by the server. The server answers one request at a
time (~40 ms a write here), and each student's sending thread puts everything waiting in one write:
300 students are about a second behind once started, 30 a few seconds on a heavily loaded 2-core
machine (``benchmarks/RESULTS.md``).

The next candidate, had trackio not served: an MLflow tracking server (free, self-hosted, a
documented REST API); not tried here, since trackio served.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

__all__ = ["OPENED", "READ_TIMEOUT", "ServerGone", "ServerLink", "ServerRefused", "call", "is_link", "parse_link"]

PROJECT = re.compile(r"[A-Za-z0-9_-]{1,64}")  # trackio keeps only these characters of a project's name
TOKEN_HEADER = "x-trackio-write-token"
TOKEN_ENV = "TRACKIO_WRITE_TOKEN"  # trackio's own: the server's token when it starts, a client's default
OPENED = "losswidget class"  # the run whose config says the teacher opened the class
TIMEOUT = 10.0  # seconds one call may take: a server that is gone costs a sender this, then waits
READ_TIMEOUT = 30.0  # the view's reads (on its own thread): a server busy with a class answers slowly


class ServerRefused(Exception):
    """The server answered and said no (a wrong token, not a trackio server, a class not open)."""


class ServerGone(Exception):
    """No answer: the server is down, restarting or unreachable (tried again later)."""


@dataclass(frozen=True)
class ServerLink:
    """Where a class lives: the server's address (``base``, ending in ``/``), the class (trackio's
    project) and the write token, if any (never shown: :attr:`shown` leaves it out)."""

    base: str
    project: str
    token: str | None = None

    @property
    def shown(self) -> str:
        return f"{self.base}?project={self.project}"

    def __repr__(self) -> str:  # the token never reaches a screen
        return f"ServerLink({self.shown!r}, token={'set' if self.token else 'none'})"


def is_link(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower().startswith(("http://", "https://"))


def parse_link(url: Any, project: Any = None, token: Any = None, *, name: str = "url") -> ServerLink:
    """The link as trackio writes it (``http://host:7860/?project=lab3&write_token=...``), or the address
    with ``project=`` and ``token=`` (those win over the link's); the token defaults to
    ``TRACKIO_WRITE_TOKEN``. Raises naming the argument, the value and what is allowed."""
    if not is_link(url):
        raise ValueError(f"'{name}' must be the class server's link, http://host:port/?project=...: {url!r:.80}")
    parts = urllib.parse.urlsplit(url.strip())
    if not parts.hostname:
        raise ValueError(f"'{name}' names no host: {url!r:.80}")
    query = urllib.parse.parse_qs(parts.query)
    project = project if project is not None else (query.get("project") or [None])[0]
    if project is None:
        raise ValueError(f"the class is missing: give 'project=' or a link with ?project=...: {_shown(url)!r}")
    if not isinstance(project, str) or not PROJECT.fullmatch(project):
        raise ValueError(
            f"'project' must be 1 to 64 letters, digits, '-' or '_' (the server keeps only those): {project!r:.80}"
        )
    token = token if token is not None else (query.get("write_token") or [None])[0] or os.environ.get(TOKEN_ENV)
    if token is not None and (not isinstance(token, str) or not token.strip()):
        raise TypeError("'token' must be the server's write token (a non-empty str) or None")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return ServerLink(f"{parts.scheme}://{parts.netloc}{path}", project, token)


def _shown(url: str) -> str:
    return re.sub(r"write_token=[^&]*", "write_token=…", url)[:120]


def call(link: ServerLink, api: str, kwargs: dict[str, Any], *, write: bool = False, timeout: float = TIMEOUT) -> Any:
    """``POST /api/<api>`` with ``kwargs``; the answer's ``data``. ServerGone when no answer came (or a
    5xx: the server is in trouble, try again), ServerRefused when it said no."""
    body = json.dumps({"kwargs": kwargs}).encode()
    headers = {"content-type": "application/json"}
    if write and link.token:
        headers[TOKEN_HEADER] = link.token
    request = urllib.request.Request(f"{link.base}api/{api}", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        said = _error_of(error)
        if error.code >= 500:
            raise ServerGone(f"it answered {error.code}{': ' + said if said else ''}") from None
        if error.code == 404:
            raise ServerRefused(f"it is not a trackio server (it has no /api/{api})") from None
        raise ServerRefused(said or f"it answered {error.code}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        raise ServerGone(_unreached(getattr(error, "reason", error), timeout)) from None
    except ValueError:
        raise ServerRefused("its answer is not trackio's JSON: is this a trackio server?") from None
    if not isinstance(answer, dict):
        raise ServerRefused("its answer is not trackio's JSON: is this a trackio server?")
    if answer.get("error"):
        raise ServerRefused(str(answer["error"])[:300])
    return answer.get("data")


def _unreached(reason: Any, timeout: float) -> str:
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, ConnectionRefusedError):
        return "nothing answers at that address: the server is not running"
    return f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__


def _error_of(error: urllib.error.HTTPError) -> str:
    try:
        said = json.loads(error.read()).get("error")
    except Exception:  # an answer that is not trackio's: the status code says enough
        return ""
    return str(said)[:300] if said else ""
