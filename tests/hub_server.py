"""A loopback Hugging Face Hub for tests: the real ``huggingface_hub`` client talks HTTP to it.

Only the HTTP side is simulated. The server speaks the subset of the Hub protocol that
``huggingface_hub`` 2.x uses for reading a repo and committing to it, with the same URLs, JSON
shapes and error headers (``X-Error-Code``, ``X-Error-Message``, ``RateLimit``), so the client's own
error mapping (``RepositoryNotFoundError``, ``GatedRepoError``, ``HfHubHTTPError`` with status 412,
...) runs unmodified:

======================================================  ========================================
``GET  /api/whoami-v2``                                 ``HfApi.whoami``
``POST /api/validate-yaml``                             ``create_commit`` (README.md front matter)
``GET  /api/models``                                    ``list_models`` (search, author, filter,
                                                        pipeline_tag, limit, expand; Link pages)
``GET  /api/models/{repo}[/revision/{rev}]``            ``model_info`` (``sha``, ``siblings``,
                                                        ``cardData``, ``pipeline_tag``, ``expand``)
``GET  /api/models/{repo}/tree/{rev}[/{path}]``         ``list_repo_tree`` / ``snapshot_download``
``GET  /api/models/{repo}/commits/{rev}``               ``list_repo_commits`` (paginated, Link)
``POST /api/models/{repo}/preupload/{rev}``             ``create_commit`` (regular uploads, ``oid``)
``POST /api/models/{repo}/commit/{rev}``                ``create_commit`` (NDJSON, ``create_pr=1``)
``GET  /api/models/{repo}/discussions``                 ``get_repo_discussions`` (filters, pages)
``POST /api/models/{repo}/discussions``                 ``create_discussion`` / ``create_pull_request``
``GET  /api/models/{repo}/discussions/{num}``           ``get_discussion_details``
``POST /api/models/{repo}/discussions/{num}/status``    ``change_discussion_status``
``POST /api/models/{repo}/discussions/{num}/merge``     ``merge_pull_request``
``GET|HEAD /{repo}/resolve/{rev}/{path}``               ``hf_hub_download`` (ETag, X-Repo-Commit)
``GET  /api/datasets/{repo}[/revision/{rev}]``          ``dataset_info`` (a repo created as
                                                        ``datasets/{repo}``; ``datasets`` reads
``GET  /api/datasets/{repo}/tree/{rev}[/{path}]``       these four to load a dataset repo)
``POST /api/datasets/{repo}/paths-info/{rev}``          ``get_paths_info``
``GET|HEAD /datasets/{repo}/resolve/{rev}/{path}``      ``hf_hub_download(repo_type="dataset")``
======================================================  ========================================

Behaviour copied from the real Hub (facts checked against huggingface_hub 2.4's source and the
Hub's public issue tracker):

* a commit whose ``parentCommit`` is not the head of the target branch gets HTTP 412;
* the commit endpoint itself does *not* skip no-op commits: posting identical files creates an
  empty commit (huggingface_hub/issues/1411). The *client* avoids them: ``/preupload`` returns the
  ``oid`` (git blob sha1) of each existing file and ``create_commit`` drops unchanged files, and
  makes no commit at all when nothing is left;
* ``create_pr=1`` opens a pull request whose title is the commit summary, on a new ``refs/pr/N``
  branched from ``parentCommit`` (or from the head of the revision);
* private or missing repos answer 404 (401 when anonymous) with ``X-Error-Code: RepoNotFound``;
  gated files answer 403 (401 when anonymous) with ``X-Error-Code: GatedRepo``;
  an unknown token answers 401 ``Invalid credentials in Authorization header``;
* every response carries ``RateLimit: "api";r=<remaining>;t=<reset>`` and ``RateLimit-Policy``;
  a rate-limited request gets 429 with ``r=0`` (and, when asked, ``Retry-After``);
* ``validate-yaml`` rejects front matter that does not parse, has duplicate keys, or is not a map.

All files are "regular" (no LFS/Xet upload path). State lives in memory; faults are injected per
request (:class:`Fault`). Use :func:`running_hub` (a context manager) or :class:`HubServer` directly.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import itertools
import json
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

GITATTRIBUTES = (
    b"*.bin filter=lfs diff=lfs merge=lfs -text\n*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
)
DISCUSSIONS_PAGE_SIZE = 50
COMMITS_PAGE_SIZE = 50
MODELS_PAGE_SIZE = 1000  # the Hub serves model listings in pages of at most 1000
RATE_LIMIT_POLICY = '"fixed window";"api";q=1000;w=300'
#: Dataset repos are stored beside the models under this prefix (``create_repo("datasets/org/x")``).
DATASET_PREFIX = "datasets/"
_YAML_BLOCK = re.compile(r"^(\s*---[\r\n]+)([\S\s]*?)([\r\n]+---(\r\n|\n|$))")


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob (``git hash-object``), as the Hub reports for regular files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def folder_files(folder: Any) -> dict[str, bytes]:
    """The files under ``folder`` (a ``Path``) as ``{relative posix path: bytes}``, for ``create_repo``."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in files}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ---------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------


@dataclass
class Commit:
    """One commit: its id, parents, full file tree and message."""

    sha: str
    parents: list[str]
    tree: dict[str, bytes]
    title: str
    message: str
    author: str
    date: str
    via_api: bool = False


@dataclass
class Discussion:
    """A discussion or pull request. A PR's branch is ``refs/pr/{num}``."""

    num: int
    title: str
    author: str
    is_pull_request: bool
    description: str
    status: str = "open"
    created_at: str = field(default_factory=_now)
    base_commit: str | None = None  # the commit a PR branched from
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Repo:
    """A model repository: commits, refs (``main``, ``refs/pr/N``), discussions and access lists."""

    repo_id: str
    private: bool = False
    gated: bool = False
    writers: set[str] = field(default_factory=set)
    readers: set[str] = field(default_factory=set)  # extra read access (private) / gate granted
    commits: dict[str, Commit] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    discussions: list[Discussion] = field(default_factory=list)
    created_at: str = field(default_factory=_now)
    pipeline_tag: str | None = None  # what the Hub infers from the card/config; set by the test
    tags: list[str] = field(default_factory=list)


@dataclass
class Account:
    """A user or an organization (``members`` only for organizations)."""

    name: str
    is_org: bool = False
    members: set[str] = field(default_factory=set)


@dataclass
class TokenInfo:
    """A token: whose it is and its role (``"write"`` or ``"read"``)."""

    user: str
    role: str = "write"


@dataclass
class Fault:
    """What to do to a matching request instead of (or on top of) serving it.

    ``kind`` is one of:
      * ``"rate_limit"``: answer 429 with ``RateLimit: "api";r=0;t=<reset>`` (+ ``Retry-After``),
        without processing the request (``reset=None``: the RateLimit header is not the reason, r>0);
      * ``"error"``: answer ``status`` (5xx) without processing the request;
      * ``"html_error"``: the same with an HTML body (a proxy's page; not JSON);
      * ``"error_after"``: process the request (a commit lands) and answer ``status`` anyway;
      * ``"drop"``: read the request, close the connection without an answer, no processing;
      * ``"drop_after"``: process the request, then close the connection without an answer;
      * ``"hook"``: call ``hook(server)`` first (e.g. a concurrent push), then serve normally.

    Build one with the class methods; :meth:`HubServer.inject` arms it.
    """

    kind: str
    status: int = 500
    reset: int | None = 0
    retry_after: int | None = None
    hook: Callable[[HubServer], None] | None = None
    method: str | None = None
    path: str | None = None
    times: int = 1
    hits: int = 0

    @classmethod
    def rate_limit(cls, reset: int | None = 1, retry_after: int | None = None) -> Fault:
        """429 with ``RateLimit: "api";r=0;t=<reset>``; with ``reset=None`` only ``Retry-After`` tells."""
        return cls("rate_limit", status=429, reset=reset, retry_after=retry_after)

    @classmethod
    def error(cls, status: int = 503) -> Fault:
        return cls("error", status=status)

    @classmethod
    def html_error(cls, status: int = 502) -> Fault:
        """Answer ``status`` with an HTML page (a proxy's error page), without processing the request."""
        return cls("html_error", status=status)

    @classmethod
    def error_after(cls, status: int = 500) -> Fault:
        return cls("error_after", status=status)

    @classmethod
    def drop(cls) -> Fault:
        return cls("drop")

    @classmethod
    def drop_after(cls) -> Fault:
        return cls("drop_after")

    @classmethod
    def on_request(cls, hook: Callable[[HubServer], None]) -> Fault:
        return cls("hook", hook=hook)

    def matches(self, method: str, path: str) -> bool:
        if self.hits >= self.times:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.path is None or re.search(self.path, path) is not None


@dataclass
class RequestRecord:
    """One request the server saw (the ``Authorization`` header is never recorded)."""

    method: str
    path: str
    query: dict[str, list[str]]
    user: str | None
    status: int | None = None
    fault: str | None = None


class HubHTTPError(Exception):
    """Raised inside a handler to answer an error the way the Hub does."""

    def __init__(
        self, status: int, message: str, *, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


class HubServer:
    """An in-memory Hub on ``http://127.0.0.1:<port>``; start with :meth:`start` or ``with``.

    Attributes:
        url: the endpoint to give ``HfApi(endpoint=...)`` or ``HF_ENDPOINT``.
        requests: every request served, in order (see :class:`RequestRecord`).
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.repos: dict[str, Repo] = {}
        self.accounts: dict[str, Account] = {}
        self.tokens: dict[str, TokenInfo] = {}
        self.faults: list[Fault] = []
        self.requests: list[RequestRecord] = []
        self._counter = itertools.count(1)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.models_page_size = MODELS_PAGE_SIZE  # tests lower it to exercise the Link pagination

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> HubServer:
        """Listen on 127.0.0.1, port chosen by the OS, serving from a daemon thread."""
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.hub = self
        host, port = self._httpd.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="hub-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and close every open connection (clients then see the server as down)."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_all_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- accounts ----------------------------------------------------------------------------

    def add_user(self, name: str, token: str | None = None, *, role: str = "write") -> str | None:
        """Create a user (if new) and, when given, a token for them with ``role`` "write" or "read"."""
        with self.lock:
            self.accounts.setdefault(name, Account(name))
            if token is not None:
                self.tokens[token] = TokenInfo(name, role)
            return token

    def add_org(self, name: str, members: list[str] | tuple[str, ...] = ()) -> None:
        """Create an organization whose members may write to its repos."""
        with self.lock:
            org = self.accounts.setdefault(name, Account(name, is_org=True))
            org.is_org = True
            org.members.update(members)

    # -- repos -------------------------------------------------------------------------------

    def create_repo(
        self,
        repo_id: str,
        files: dict[str, bytes] | None = None,
        *,
        private: bool = False,
        gated: bool = False,
        writers: list[str] | tuple[str, ...] = (),
        pipeline_tag: str | None = None,
        tags: list[str] | tuple[str, ...] = (),
    ) -> Repo:
        """Create a model repo with the Hub's "initial commit" (``.gitattributes``), then ``files``.

        Writers are the namespace's user (or its organization's members) plus ``writers``.
        ``pipeline_tag`` and ``tags`` are what the Hub would infer from the card and config; the
        listing (``list_models``) filters on them, and ``model_info`` reports them.
        """
        with self.lock:
            namespace = repo_id.split("/")[0] if "/" in repo_id else None
            repo = Repo(
                repo_id,
                private=private,
                gated=gated,
                writers=set(writers),
                pipeline_tag=pipeline_tag,
                tags=list(tags),
            )
            if namespace:
                repo.writers.add(namespace)
            self.repos[repo_id] = repo
            first = self._new_commit(
                repo, [], {".gitattributes": GITATTRIBUTES}, "initial commit", "", "system"
            )
            repo.refs["main"] = first.sha
            if files:
                self.push(repo_id, files, title="Upload files", author=namespace or "system")
            return repo

    def grant_access(self, repo_id: str, user: str) -> None:
        """Let ``user`` read a gated or private repo."""
        with self.lock:
            self.repos[repo_id].readers.add(user)

    def push(
        self,
        repo_id: str,
        files: dict[str, bytes | None],
        *,
        title: str = "Update files",
        message: str = "",
        author: str = "someone",
        revision: str = "main",
    ) -> str:
        """Commit directly on the server (a "concurrent push"); ``None`` deletes a file. Returns the sha."""
        with self.lock:
            repo = self.repos[repo_id]
            ref = self._ref_name(repo, revision)
            head = repo.commits[repo.refs[ref]]
            tree = dict(head.tree)
            for path, data in files.items():
                if data is None:
                    tree.pop(path, None)
                else:
                    tree[path] = data
            commit = self._new_commit(repo, [head.sha], tree, title, message, author)
            repo.refs[ref] = commit.sha
            return commit.sha

    def open_pull_request(self, repo_id: str, title: str, author: str, files: dict[str, bytes]) -> int:
        """Open a PR as ``author`` (for instance someone else's PR with the same title). Returns its num."""
        with self.lock:
            repo = self.repos[repo_id]
            base = repo.refs["main"]
            tree = dict(repo.commits[base].tree)
            tree.update(files)
            commit = self._new_commit(repo, [base], tree, title, "", author)
            return self._open_pr(repo, title, "", author, base, commit).num

    def head(self, repo_id: str, revision: str = "main") -> str:
        """The commit sha a branch (``main``, ``refs/pr/N``) points to."""
        with self.lock:
            repo = self.repos[repo_id]
            return repo.refs[self._ref_name(repo, revision)]

    def file(self, repo_id: str, path: str, revision: str = "main") -> bytes | None:
        """A file's bytes at a revision, or None."""
        with self.lock:
            repo = self.repos[repo_id]
            return repo.commits[self._resolve(repo, revision)].tree.get(path)

    def history(self, repo_id: str, revision: str = "main") -> list[Commit]:
        """Commits reachable from ``revision`` by first parents, newest first."""
        with self.lock:
            repo = self.repos[repo_id]
            return self._history(repo, self._resolve(repo, revision))

    def api_commit_count(self, repo_id: str) -> int:
        """How many commits were created through the HTTP commit endpoint (on any branch)."""
        with self.lock:
            return sum(1 for c in self.repos[repo_id].commits.values() if c.via_api)

    def pull_requests(self, repo_id: str, status: str | None = None) -> list[Discussion]:
        """The repo's pull requests (optionally only those with ``status``), oldest first."""
        with self.lock:
            return [
                d
                for d in self.repos[repo_id].discussions
                if d.is_pull_request and (status is None or d.status == status)
            ]

    # -- faults and the request log ----------------------------------------------------------

    def inject(
        self, fault: Fault, *, method: str | None = None, path: str | None = None, times: int = 1
    ) -> Fault:
        """Arm ``fault`` for the next ``times`` requests whose method and path (a regex searched in the
        URL-decoded path, e.g. ``r"/commit/main$"``) match. Returns the fault; ``fault.hits`` counts uses."""
        fault.method, fault.path, fault.times = method, path, times
        with self.lock:
            self.faults.append(fault)
        return fault

    def count(self, method: str, path_regex: str) -> int:
        """How many requests with this method had a path matching ``path_regex``."""
        with self.lock:
            return sum(1 for r in self.requests if r.method == method and re.search(path_regex, r.path))

    # -- internals ---------------------------------------------------------------------------

    def _new_commit(
        self, repo: Repo, parents: list[str], tree: dict[str, bytes], title: str, message: str, author: str
    ) -> Commit:
        seed = json.dumps([repo.repo_id, parents, sorted(tree), title, next(self._counter)]).encode()
        digest = hashlib.sha1(seed + b"".join(git_blob_sha1(v).encode() for _, v in sorted(tree.items())))
        commit = Commit(digest.hexdigest(), parents, dict(tree), title, message, author, _now())
        repo.commits[commit.sha] = commit
        return commit

    def _open_pr(
        self, repo: Repo, title: str, description: str, author: str, base: str, commit: Commit
    ) -> Discussion:
        num = len(repo.discussions) + 1
        pr = Discussion(num, title, author, True, description, base_commit=base)
        pr.events.append(
            _event("comment", author, {"edited": False, "hidden": False, "latest": {"raw": description}})
        )
        pr.events.append(_event("commit", author, {"subject": commit.title, "oid": commit.sha}))
        repo.discussions.append(pr)
        repo.refs[f"refs/pr/{num}"] = commit.sha
        return pr

    @staticmethod
    def _ref_name(repo: Repo, revision: str) -> str:
        name = revision[len("refs/heads/") :] if revision.startswith("refs/heads/") else revision
        if name not in repo.refs:
            raise HubHTTPError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
        return name

    def _resolve(self, repo: Repo, revision: str) -> str:
        name = revision[len("refs/heads/") :] if revision.startswith("refs/heads/") else revision
        if name in repo.refs:
            return repo.refs[name]
        if re.fullmatch(r"[0-9a-f]{7,40}", revision):
            found = [sha for sha in repo.commits if sha.startswith(revision)]
            if len(found) == 1:
                return found[0]
        raise HubHTTPError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")

    @staticmethod
    def _history(repo: Repo, sha: str) -> list[Commit]:
        out = []
        current: str | None = sha
        while current is not None:
            commit = repo.commits[current]
            out.append(commit)
            current = commit.parents[0] if commit.parents else None
        return out

    def _can_read(self, repo: Repo, user: str | None) -> bool:
        if not repo.private:
            return True
        return user is not None and (self._is_writer(repo, user) or user in repo.readers)

    def _is_writer(self, repo: Repo, user: str | None) -> bool:
        if user is None:
            return False
        if user in repo.writers:
            return True
        return any(
            (acct := self.accounts.get(w)) is not None and acct.is_org and user in acct.members
            for w in repo.writers
        )

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None


def _event(kind: str, author: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": hashlib.sha1(os.urandom(8)).hexdigest()[:24],
        "type": kind,
        "createdAt": _now(),
        "author": {"name": author, "type": "user"},
        "data": data,
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    hub: HubServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_all_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()


class _Drop(Exception):
    """Close the connection without answering."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm on, the body waits for the
    # client's delayed ACK of the headers (~40 ms a request on Linux loopback).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        pass

    # -- plumbing ----------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        hub = self.server.hub
        split = urlsplit(self.path)
        raw_segments = [s for s in split.path.split("/") if s]
        segments = [unquote(s) for s in raw_segments]
        decoded_path = "/" + "/".join(segments)
        query = parse_qs(split.query, keep_blank_values=True)
        body = self._read_body()
        record = RequestRecord(method, decoded_path, query, None)
        with hub.lock:
            hub.requests.append(record)
        fault = hub._take_fault(method, decoded_path)
        if fault is not None:
            record.fault = fault.kind
        try:
            if fault is not None and fault.kind == "hook" and fault.hook is not None:
                fault.hook(hub)
            if fault is not None and fault.kind == "drop":
                raise _Drop
            if fault is not None and fault.kind == "rate_limit":
                headers = {"RateLimit": f'"api";r=0;t={fault.reset}', "RateLimit-Policy": RATE_LIMIT_POLICY}
                if fault.reset is None:  # only Retry-After says how long
                    headers["RateLimit"] = '"api";r=5;t=300'
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(fault.retry_after)
                raise HubHTTPError(429, "You have been rate-limited; retry later.", headers=headers)
            if fault is not None and fault.kind == "html_error":
                page = b"<html><body><h1>%d Bad Gateway</h1></body></html>" % fault.status
                self._send(method, fault.status, page, {"Content-Type": "text/html"})
                record.status = fault.status
                return
            if fault is not None and fault.kind == "error":
                raise HubHTTPError(
                    fault.status, "Internal Error - We're working hard to fix this as soon as possible!"
                )
            user = self._user()
            record.user = user
            status, payload, headers = _Routes(hub, self, method, segments, query, body, user).route()
            if fault is not None and fault.kind == "drop_after":
                raise _Drop
            if fault is not None and fault.kind == "error_after":
                raise HubHTTPError(fault.status, "Internal Error - the response was lost.")
            record.status = status
            self._send(method, status, payload, headers)
        except _Drop:
            record.status = None
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        except HubHTTPError as err:
            record.status = err.status
            headers = dict(err.headers)
            if err.code:
                headers["X-Error-Code"] = err.code
            headers["X-Error-Message"] = err.message
            self._send(method, err.status, {"error": err.message}, headers)
        except Exception as err:  # a bug in this server: answer 500 and say what it was
            record.status = 500
            self._send(method, 500, {"error": f"test hub server bug: {type(err).__name__}: {err}"}, {})

    def _user(self) -> str | None:
        auth = self.headers.get("Authorization")
        if not auth:
            return None
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else auth
        info = self.server.hub.tokens.get(token)
        if info is None:
            raise HubHTTPError(401, "Invalid credentials in Authorization header")
        return info.user

    def token_role(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        info = self.server.hub.tokens.get(auth[len("Bearer ") :])
        return info.role if info else None

    def _send(self, method: str, status: int, payload: Any, headers: dict[str, str]) -> None:
        if isinstance(payload, bytes):
            body = payload
            headers.setdefault("Content-Type", "application/octet-stream")
        else:
            body = json.dumps(payload).encode()
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        self.send_response(status)
        headers.setdefault("X-Request-Id", "Root=1-" + hashlib.sha1(os.urandom(8)).hexdigest()[:24])
        headers.setdefault("RateLimit", '"api";r=999;t=300')
        headers.setdefault("RateLimit-Policy", RATE_LIMIT_POLICY)
        headers.setdefault("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)


class _Routes:
    """One request's routing and handling; methods return ``(status, payload, headers)``."""

    def __init__(
        self,
        hub: HubServer,
        handler: _Handler,
        method: str,
        segments: list[str],
        query: dict[str, list[str]],
        body: bytes,
        user: str | None,
    ) -> None:
        self.hub, self.handler, self.method = hub, handler, method
        self.segments, self.query, self.body, self.user = segments, query, body, user

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json_body(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            raise HubHTTPError(400, "Invalid JSON body") from None

    def route(self) -> tuple[int, Any, dict[str, str]]:
        s, m = self.segments, self.method
        if s[:2] == ["api", "whoami-v2"] and m == "GET":
            return self.whoami()
        if s[:2] == ["api", "validate-yaml"] and m == "POST":
            return self.validate_yaml()
        if s == ["api", "models"] and m == "GET":
            return self.list_models()
        if len(s) >= 3 and s[:2] == ["api", "models"]:
            repo_id, rest = self._split_repo(s[2:])
            return self.api_repo(repo_id, rest)
        if len(s) >= 4 and s[:2] == ["api", "datasets"]:  # a dataset repo: stored as datasets/<id>
            return self.api_dataset(f"{DATASET_PREFIX}{s[2]}/{s[3]}", s[4:])
        if s[:1] == ["datasets"] and len(s) >= 5 and s[3] == "resolve" and m in ("GET", "HEAD"):
            return self.resolve("/".join(s[:3]), s[4:])
        if "resolve" in s[1:3] and m in ("GET", "HEAD"):
            index = s.index("resolve", 1)
            return self.resolve("/".join(s[:index]), s[index + 1 :])
        raise HubHTTPError(404, "Sorry, we can't find the page you are looking for.")

    def _split_repo(self, s: list[str]) -> tuple[str, list[str]]:
        with self.hub.lock:
            if len(s) >= 2 and f"{s[0]}/{s[1]}" in self.hub.repos:
                return f"{s[0]}/{s[1]}", s[2:]
            if s[0] in self.hub.repos:
                return s[0], s[1:]
        return "/".join(s[:2]), s[2:]

    # -- access ------------------------------------------------------------------------------

    def repo_for_read(self, repo_id: str) -> Repo:
        repo = self.hub.repos.get(repo_id)
        if repo is None or not self.hub._can_read(repo, self.user):
            status = 401 if self.user is None else 404
            raise HubHTTPError(status, "Repository not found", code="RepoNotFound")
        return repo

    def check_write(
        self, repo: Repo, *, pull_request: Discussion | None = None, opening_pr: bool = False
    ) -> None:
        if self.user is None:
            raise HubHTTPError(401, "You must be authenticated to write to a repository")
        if self.handler.token_role() != "write":
            raise HubHTTPError(
                403, "You don't have the rights to write with this token: it is a read-only token"
            )
        if opening_pr and not repo.private:
            return
        if pull_request is not None and pull_request.author == self.user:
            return
        if not self.hub._is_writer(repo, self.user):
            raise HubHTTPError(403, f"You don't have the rights to create a commit on {repo.repo_id}")

    def check_gate(self, repo: Repo) -> None:
        if not repo.gated or self.hub._is_writer(repo, self.user) or self.user in repo.readers:
            return
        if self.user is None:
            raise HubHTTPError(
                401,
                f"Access to model {repo.repo_id} is restricted. "
                "You must have access to it and be authenticated to access it. Please log in.",
                code="GatedRepo",
            )
        raise HubHTTPError(
            403,
            f"Access to model {repo.repo_id} is restricted and you are not in the authorized list. "
            f"Visit {self.hub.url}/{repo.repo_id} to ask for access.",
            code="GatedRepo",
        )

    # -- endpoints ---------------------------------------------------------------------------

    def whoami(self) -> tuple[int, Any, dict[str, str]]:
        if self.user is None:
            raise HubHTTPError(401, "Invalid credentials in Authorization header")
        orgs = [
            {"type": "org", "name": a.name}
            for a in self.hub.accounts.values()
            if a.is_org and self.user in a.members
        ]
        role = self.handler.token_role()
        payload = {
            "type": "user",
            "name": self.user,
            "fullname": self.user,
            "orgs": orgs,
            "auth": {"type": "access_token", "accessToken": {"displayName": "test token", "role": role}},
        }
        return 200, payload, {}

    def validate_yaml(self) -> tuple[int, Any, dict[str, str]]:
        content = str(self.json_body().get("content", ""))
        errors = _validate_front_matter(content)
        if errors:
            return 400, {"errors": [{"message": e} for e in errors], "warnings": []}, {}
        return 200, {"errors": [], "warnings": []}, {}

    def api_repo(self, repo_id: str, rest: list[str]) -> tuple[int, Any, dict[str, str]]:
        with self.hub.lock:
            repo = self.repo_for_read(repo_id)
            head = rest[0] if rest else None
            m = self.method
            if head is None and m == "GET":
                return self.model_info(repo, "main")
            if head == "revision" and m == "GET":
                return self.model_info(repo, "/".join(rest[1:]))
            if head == "tree" and m == "GET":
                return self.tree(repo, rest[1:])
            if head == "commits" and m == "GET":
                return self.commits(repo, "/".join(rest[1:]) or "main")
            if head == "preupload" and m == "POST":
                return self.preupload(repo, "/".join(rest[1:]) or "main")
            if head == "commit" and m == "POST":
                return self.commit(repo, "/".join(rest[1:]) or "main")
            if head == "discussions":
                return self.discussions(repo, rest[1:])
        raise HubHTTPError(404, "Sorry, we can't find the page you are looking for.")

    def api_dataset(self, repo_id: str, rest: list[str]) -> tuple[int, Any, dict[str, str]]:
        """The read side of a dataset repo (what ``datasets.load_dataset`` asks): its info at a
        revision, its tree, and ``paths-info``."""
        with self.hub.lock:
            repo = self.repo_for_read(repo_id)
            head = rest[0] if rest else None
            if head in (None, "revision") and self.method == "GET":
                revision = "/".join(rest[1:]) if head else "main"
                payload = self._model_json(repo, revision, with_blobs=True)
                payload["id"] = repo_id[len(DATASET_PREFIX) :]
                for key in ("modelId", "pipeline_tag"):
                    payload.pop(key, None)
                return 200, payload, {}
            if head == "tree" and self.method == "GET":
                return self.tree(repo, rest[1:])
            if head == "paths-info" and self.method == "POST":
                sha = self.hub._resolve(repo, "/".join(rest[1:]) or "main")
                form = parse_qs(self.body.decode("utf-8"))
                paths = form.get("paths", []) or self.json_body().get("paths", [])
                files = repo.commits[sha].tree
                out = []
                for path in paths:
                    if path in files:
                        out.append({"type": "file", "path": path, "oid": git_blob_sha1(files[path]),
                                    "size": len(files[path])})  # fmt: skip
                    elif any(f.startswith(path.rstrip("/") + "/") for f in files):
                        out.append({"type": "directory", "path": path, "oid": git_blob_sha1(path.encode())})
                return 200, out, {}
        raise HubHTTPError(404, "Sorry, we can't find the page you are looking for.")

    def model_info(self, repo: Repo, revision: str) -> tuple[int, Any, dict[str, str]]:
        payload = self._model_json(repo, revision, with_blobs=self.q("blobs") in ("True", "true", "1"))
        return 200, _expanded(payload, self.query.get("expand")), {}

    def list_models(self) -> tuple[int, Any, dict[str, str]]:
        """``GET /api/models``: the models this caller can see, filtered, in pages linked by ``Link``.

        ``search`` is a case-insensitive substring of the repo id, ``author`` the exact namespace,
        each ``filter`` a tag the model must have (its pipeline tag counts), ``pipeline_tag`` the
        exact pipeline tag. A page holds at most ``limit`` (and at most ``models_page_size``) models;
        the next page's URL carries the same query plus a ``cursor``. Without ``expand``, ``full``
        or ``cardData`` an item has the Hub's short listing fields (no ``sha``, no ``siblings``).
        """
        from urllib.parse import urlencode

        search = (self.q("search") or "").lower()
        author = self.q("author")
        filters = self.query.get("filter", [])
        pipeline_tag = self.q("pipeline_tag")
        limit = int(self.q("limit") or 0)
        cursor = int(self.q("cursor") or 0)
        with self.hub.lock:
            selected = [
                repo
                for repo in self.hub.repos.values()
                if not repo.repo_id.startswith(DATASET_PREFIX)
                if self.hub._can_read(repo, self.user)
                and (not search or search in repo.repo_id.lower())
                and (author is None or repo.repo_id.split("/")[0] == author)
                and (pipeline_tag is None or repo.pipeline_tag == pipeline_tag)
                and all(f in _repo_tags(repo) for f in filters)
            ]
            page_size = min(self.hub.models_page_size, limit) if limit > 0 else self.hub.models_page_size
            chunk = selected[cursor : cursor + page_size]
            expand = self.query.get("expand")
            full = self.q("full") in ("True", "true", "1")
            card = self.q("cardData") in ("True", "true", "1")
            items = []
            for repo in chunk:
                payload = self._model_json(repo, "main", with_blobs=False)
                if expand:
                    items.append(_expanded(payload, expand))
                    continue
                keys = set(_LISTING_KEYS)
                if full:
                    keys |= {"sha", "lastModified", "siblings", "author", "gated", "disabled"}
                if card:
                    keys.add("cardData")
                items.append({k: v for k, v in payload.items() if k in keys})
        headers = {}
        if cursor + page_size < len(selected):
            params = [(k, v) for k, values in self.query.items() if k != "cursor" for v in values]
            params.append(("cursor", str(cursor + page_size)))
            headers["Link"] = f'<{self.hub.url}/api/models?{urlencode(params)}>; rel="next"'
        return 200, items, headers

    def _model_json(self, repo: Repo, revision: str, *, with_blobs: bool) -> dict[str, Any]:
        sha = self.hub._resolve(repo, revision)
        commit = repo.commits[sha]
        siblings = []
        for path, data in sorted(commit.tree.items()):
            sibling: dict[str, Any] = {"rfilename": path}
            if with_blobs:
                sibling.update(blobId=git_blob_sha1(data), size=len(data))
            siblings.append(sibling)
        namespace = repo.repo_id.split("/")[0] if "/" in repo.repo_id else None
        payload = {
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "author": namespace,
            "sha": sha,
            "lastModified": commit.date,
            "createdAt": repo.created_at,
            "private": repo.private,
            "gated": "auto" if repo.gated else False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "trendingScore": 0,
            "tags": _repo_tags(repo),
            "siblings": siblings,
        }
        if repo.pipeline_tag is not None:
            payload["pipeline_tag"] = repo.pipeline_tag
        card_data = _card_data(commit.tree.get("README.md"))
        if card_data is not None:
            payload["cardData"] = card_data
        return payload

    def tree(self, repo: Repo, rest: list[str]) -> tuple[int, Any, dict[str, str]]:
        if not rest:
            raise HubHTTPError(404, "Revision missing", code="RevisionNotFound")
        sha = self.hub._resolve(repo, rest[0])
        prefix = "/".join(rest[1:]).strip("/")
        recursive = self.q("recursive") in ("True", "true", "1")
        files = repo.commits[sha].tree
        base = prefix + "/" if prefix else ""
        entries: dict[str, dict[str, Any]] = {}
        for path, data in sorted(files.items()):
            if not path.startswith(base):
                continue
            relative = path[len(base) :].split("/")
            for depth in range(1, len(relative)):
                folder = base + "/".join(relative[:depth])
                if recursive or depth == 1:
                    entries.setdefault(
                        folder, {"type": "directory", "oid": git_blob_sha1(folder.encode()), "size": 0}
                    )
            if recursive or len(relative) == 1:
                entries[path] = {"type": "file", "oid": git_blob_sha1(data), "size": len(data)}
        if prefix and not entries and prefix not in files:
            raise HubHTTPError(404, f"{prefix} does not exist", code="EntryNotFound")
        return 200, [{**value, "path": key} for key, value in entries.items()], {}

    def commits(self, repo: Repo, revision: str) -> tuple[int, Any, dict[str, str]]:
        history = self.hub._history(repo, self.hub._resolve(repo, revision))
        page = int(self.q("p") or 0)
        chunk = history[page * COMMITS_PAGE_SIZE : (page + 1) * COMMITS_PAGE_SIZE]
        items = [
            {
                "id": c.sha,
                "title": c.title,
                "message": c.message,
                "authors": [{"user": c.author, "avatar": None}],
                "date": c.date,
            }
            for c in chunk
        ]
        headers = {}
        if (page + 1) * COMMITS_PAGE_SIZE < len(history):
            quoted = quote(revision, safe="")
            headers["Link"] = (
                f'<{self.hub.url}/api/models/{repo.repo_id}/commits/{quoted}?p={page + 1}>; rel="next"'
            )
        return 200, items, headers

    def _branch_for_write(self, repo: Repo, revision: str) -> tuple[str, Discussion | None]:
        ref = self.hub._ref_name(repo, revision)
        pull_request = None
        match = re.fullmatch(r"refs/pr/(\d+)", ref)
        if match:
            pull_request = repo.discussions[int(match.group(1)) - 1]
            if pull_request.status != "open":
                raise HubHTTPError(403, f"Pull request #{pull_request.num} is {pull_request.status}")
        return ref, pull_request

    def preupload(self, repo: Repo, revision: str) -> tuple[int, Any, dict[str, str]]:
        create_pr = self.q("create_pr") == "1"
        ref, pull_request = self._branch_for_write(repo, revision)
        self.check_write(repo, pull_request=pull_request, opening_pr=create_pr)
        head = repo.commits[repo.refs[ref]]
        files = []
        for item in self.json_body().get("files", []):
            entry: dict[str, Any] = {"path": item["path"], "uploadMode": "regular", "shouldIgnore": False}
            if item["path"] in head.tree:
                entry["oid"] = git_blob_sha1(head.tree[item["path"]])
            files.append(entry)
        return 200, {"files": files, "commitOid": head.sha}, {}

    def commit(self, repo: Repo, revision: str) -> tuple[int, Any, dict[str, str]]:
        create_pr = self.q("create_pr") == "1"
        ref, pull_request = self._branch_for_write(repo, revision)
        self.check_write(repo, pull_request=pull_request, opening_pr=create_pr)
        lines = [json.loads(line) for line in self.body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubHTTPError(400, "The first line of the commit payload must be its header")
        header = lines[0]["value"]
        summary = str(header.get("summary") or "").strip()
        if not summary:
            raise HubHTTPError(400, "Commit summary is required")
        description = str(header.get("description") or "")
        parent = header.get("parentCommit")
        head_sha = repo.refs[ref]
        if parent is not None:
            matches = [sha for sha in repo.commits if sha.startswith(str(parent).lower())]
            if len(matches) != 1:
                raise HubHTTPError(400, f"Invalid parentCommit: {parent}")
            parent = matches[0]
            if not create_pr and parent != head_sha:
                raise HubHTTPError(412, "A commit has happened since. Please refresh and try again.")
        base_sha = parent if (create_pr and parent is not None) else head_sha
        tree = dict(repo.commits[base_sha].tree)
        for line in lines[1:]:
            key, value = line.get("key"), line.get("value", {})
            path = value.get("path", "")
            if key == "file":
                if value.get("encoding") != "base64":
                    raise HubHTTPError(400, "Only base64-encoded files are supported")
                tree[path] = base64.b64decode(value["content"])
            elif key == "deletedFile":
                if path not in tree:
                    raise HubHTTPError(
                        404, f"A file with this name doesn't exist: {path}", code="EntryNotFound"
                    )
                del tree[path]
            elif key == "deletedFolder":
                prefix = path.rstrip("/") + "/"
                for name in [n for n in tree if n.startswith(prefix)]:
                    del tree[name]
            else:
                raise HubHTTPError(400, f"Unsupported commit operation on this test Hub: {key}")
        author = self.user or "anonymous"
        commit = self.hub._new_commit(repo, [base_sha], tree, summary, description, author)
        commit.via_api = True
        payload: dict[str, Any] = {
            "success": True,
            "commitOid": commit.sha,
            "commitUrl": f"{self.hub.url}/{repo.repo_id}/commit/{commit.sha}",
            "hookOutput": "",
        }
        if create_pr:
            pr = self.hub._open_pr(repo, summary, description, author, base_sha, commit)
            payload["pullRequestUrl"] = f"{self.hub.url}/{repo.repo_id}/discussions/{pr.num}"
        else:
            repo.refs[ref] = commit.sha
            if pull_request is not None:
                pull_request.events.append(_event("commit", author, {"subject": summary, "oid": commit.sha}))
        return 200, payload, {}

    def discussions(self, repo: Repo, rest: list[str]) -> tuple[int, Any, dict[str, str]]:
        if not rest and self.method == "GET":
            return self.list_discussions(repo)
        if not rest and self.method == "POST":
            return self.create_discussion(repo)
        if not rest[0].isdigit() or not 1 <= int(rest[0]) <= len(repo.discussions):
            raise HubHTTPError(404, "Discussion not found")
        discussion = repo.discussions[int(rest[0]) - 1]
        if len(rest) == 1 and self.method == "GET":
            return self.discussion_details(repo, discussion)
        if rest[1:] == ["status"] and self.method == "POST":
            return self.change_status(repo, discussion)
        if rest[1:] == ["merge"] and self.method == "POST":
            return self.merge(repo, discussion)
        raise HubHTTPError(404, "Sorry, we can't find the page you are looking for.")

    def _discussion_json(self, repo: Repo, d: Discussion) -> dict[str, Any]:
        return {
            "num": d.num,
            "title": d.title,
            "status": d.status,
            "createdAt": d.created_at,
            "isPullRequest": d.is_pull_request,
            "author": {"name": d.author, "type": "user"},
            "repo": {"name": repo.repo_id, "type": "model"},
            "numComments": sum(1 for e in d.events if e["type"] == "comment"),
            "pinned": False,
        }

    def list_discussions(self, repo: Repo) -> tuple[int, Any, dict[str, str]]:
        kind, status, author = self.q("type") or "all", self.q("status") or "all", self.q("author")
        selected = [
            d
            for d in reversed(repo.discussions)
            if (kind == "all" or (kind == "pull_request") == d.is_pull_request)
            and (status == "all" or (status == "open") == (d.status == "open"))
            and (author is None or d.author == author)
        ]
        page = int(self.q("p") or 0)
        start = page * DISCUSSIONS_PAGE_SIZE
        payload = {
            "discussions": [
                self._discussion_json(repo, d) for d in selected[start : start + DISCUSSIONS_PAGE_SIZE]
            ],
            "count": len(selected),
            "start": start,
            "numClosedDiscussions": sum(1 for d in repo.discussions if d.status != "open"),
        }
        return 200, payload, {}

    def create_discussion(self, repo: Repo) -> tuple[int, Any, dict[str, str]]:
        body = self.json_body()
        title = str(body.get("title") or "").strip()
        if len(title) < 3:
            raise HubHTTPError(400, "Title must be at least 3 characters long")
        pull_request = bool(body.get("pullRequest"))
        self.check_write(repo, opening_pr=True)
        author = self.user or "anonymous"
        description = str(body.get("description") or "")
        if pull_request:
            base = repo.refs["main"]
            discussion = self.hub._open_pr(repo, title, description, author, base, repo.commits[base])
            discussion.events = discussion.events[:1]
        else:
            discussion = Discussion(len(repo.discussions) + 1, title, author, False, description)
            discussion.events.append(
                _event("comment", author, {"edited": False, "hidden": False, "latest": {"raw": description}})
            )
            repo.discussions.append(discussion)
        return (
            200,
            {"num": discussion.num, "url": f"{self.hub.url}/{repo.repo_id}/discussions/{discussion.num}"},
            {},
        )

    def discussion_details(self, repo: Repo, d: Discussion) -> tuple[int, Any, dict[str, str]]:
        payload = self._discussion_json(repo, d)
        payload["events"] = d.events
        if d.is_pull_request:
            payload["changes"] = {"base": "refs/heads/main"}
            if d.status == "merged":
                payload["changes"]["mergeCommitId"] = d.events[-1]["data"].get("oid")
            payload["filesWithConflicts"] = []
            payload["diff"] = ""
        return 200, payload, {}

    def change_status(self, repo: Repo, d: Discussion) -> tuple[int, Any, dict[str, str]]:
        new_status = str(self.json_body().get("status", ""))
        if new_status not in ("open", "closed"):
            raise HubHTTPError(400, "Invalid status")
        if self.user is None or (self.user != d.author and not self.hub._is_writer(repo, self.user)):
            raise HubHTTPError(403, "You cannot change the status of this discussion")
        d.status = new_status
        event = _event("status-change", self.user, {"status": new_status})
        d.events.append(event)
        return 200, {"newStatus": event}, {}

    def merge(self, repo: Repo, d: Discussion) -> tuple[int, Any, dict[str, str]]:
        if not d.is_pull_request or d.status != "open":
            raise HubHTTPError(400, "Only open pull requests can be merged")
        self.check_write(repo)
        base = repo.commits[d.base_commit or repo.refs["main"]].tree
        main = repo.commits[repo.refs["main"]]
        theirs = repo.commits[repo.refs[f"refs/pr/{d.num}"]].tree
        merged: dict[str, bytes] = {}
        conflicts = []
        for path in sorted(set(base) | set(main.tree) | set(theirs)):
            b, m, t = base.get(path), main.tree.get(path), theirs.get(path)
            if t == b or m == t:
                result = m
            elif m == b:
                result = t
            else:  # both sides changed the file: a line-level three-way merge, as git does
                result = _merge3(b or b"", m or b"", t or b"")
                if result is None:
                    conflicts.append(path)
                    continue
            if result is not None:
                merged[path] = result
        if conflicts:
            raise HubHTTPError(409, f"Merge conflict in: {', '.join(conflicts)}")
        commit = self.hub._new_commit(
            repo,
            [main.sha, repo.refs[f"refs/pr/{d.num}"]],
            merged,
            f"Merge refs/pr/{d.num}",
            "",
            self.user or "",
        )
        repo.refs["main"] = commit.sha
        d.status = "merged"
        d.events.append(_event("status-change", self.user or "", {"status": "merged", "oid": commit.sha}))
        return 200, {}, {}

    def resolve(self, repo_id: str, rest: list[str]) -> tuple[int, Any, dict[str, str]]:
        with self.hub.lock:
            repo = self.repo_for_read(repo_id)
            self.check_gate(repo)
            if len(rest) >= 4 and rest[0] == "refs" and rest[1] in ("pr", "convert"):
                revision, path_parts = "/".join(rest[:3]), rest[3:]
            else:
                revision, path_parts = (rest[0] if rest else "main"), rest[1:]
            sha = self.hub._resolve(repo, revision)
            path = "/".join(path_parts)
            data = repo.commits[sha].tree.get(path)
        headers = {"X-Repo-Commit": sha}
        if data is None:
            raise HubHTTPError(404, "Entry not found", code="EntryNotFound", headers=headers)
        headers["ETag"] = f'"{git_blob_sha1(data)}"'
        headers["Accept-Ranges"] = "bytes"
        headers["Content-Type"] = (
            "text/plain; charset=utf-8" if path.endswith((".md", ".txt")) else "application/octet-stream"
        )
        headers["Content-Disposition"] = f'inline; filename="{path.rsplit("/", 1)[-1]}"'
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.handler.headers.get("Range", "").strip())
        if match and self.method == "GET":
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else len(data) - 1
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return 206, data[start : end + 1], headers
        return 200, data, headers


def _merge3(base: bytes, ours: bytes, theirs: bytes) -> bytes | None:
    """A diff3 merge of three versions of a text file; None on a conflict."""
    from difflib import SequenceMatcher

    def lines(data: bytes) -> list[bytes]:
        return data.splitlines(keepends=True)

    def line_map(a: list[bytes], b: list[bytes]) -> dict[int, int]:
        out: dict[int, int] = {}
        for tag, i1, i2, j1, _ in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if tag == "equal":
                out.update({i1 + k: j1 + k for k in range(i2 - i1)})
        return out

    def pick(chunk_base: list[bytes], chunk_a: list[bytes], chunk_b: list[bytes]) -> list[bytes] | None:
        if chunk_a == chunk_b or chunk_b == chunk_base:
            return chunk_a
        if chunk_a == chunk_base:
            return chunk_b
        return None

    o, a, b = lines(base), lines(ours), lines(theirs)
    map_a, map_b = line_map(o, a), line_map(o, b)
    merged: list[bytes] = []
    i = ia = ib = 0
    while True:
        k = i
        while k < len(o) and not (k in map_a and k in map_b):
            k += 1
        if k >= len(o):
            rest = pick(o[i:], a[ia:], b[ib:])
            return None if rest is None else b"".join(merged + rest)
        chunk = pick(o[i:k], a[ia : map_a[k]], b[ib : map_b[k]])
        if chunk is None:
            return None
        merged += chunk + [o[k]]
        i, ia, ib = k + 1, map_a[k] + 1, map_b[k] + 1


# The fields of a model in a listing without ``expand``/``full``/``cardData`` (as the Hub sends them).
_LISTING_KEYS = (
    "_id",
    "id",
    "modelId",
    "likes",
    "downloads",
    "trendingScore",
    "private",
    "tags",
    "pipeline_tag",
    "createdAt",
)


def _repo_tags(repo: Repo) -> list[str]:
    """The repo's tags; the Hub lists the pipeline tag among them, so ``filter`` matches it too."""
    tags = list(repo.tags)
    if repo.pipeline_tag is not None and repo.pipeline_tag not in tags:
        tags.append(repo.pipeline_tag)
    return tags


def _expanded(payload: dict[str, Any], expand: list[str] | None) -> dict[str, Any]:
    """With ``expand``, the Hub sends only the properties asked for (plus the ids)."""
    if not expand:
        return payload
    keys = {"_id", "id", *expand}
    return {k: v for k, v in payload.items() if k in keys}


@functools.lru_cache(maxsize=4096)
def _card_data(readme: bytes | None) -> dict[str, Any] | None:
    """The card's front matter as the Hub reports it in ``cardData`` (None: no card, no mapping)."""
    if not readme:
        return None
    from ruamel.yaml import YAML

    text = readme.decode("utf-8", errors="replace")
    match = _YAML_BLOCK.match(text[1:] if text.startswith("\ufeff") else text)
    if match is None:
        return None
    try:
        data = YAML(typ="safe", pure=True).load(match.group(2))
        data = json.loads(json.dumps(data, default=str))  # plain JSON values, as the Hub sends
    except Exception:  # the Hub leaves cardData out when the metadata does not parse
        return None
    return data if isinstance(data, dict) else None


def _validate_front_matter(content: str) -> list[str]:
    """The Hub's checks on README.md metadata: YAML that parses, no duplicate keys, a mapping."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    text = content[1:] if content.startswith("\ufeff") else content  # JS's \s matches the BOM
    match = _YAML_BLOCK.match(text)
    if match is None:
        return []
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        data = yaml.load(match.group(2))
    except YAMLError as err:
        problem = str(getattr(err, "problem", None) or err).strip().splitlines()[0]
        mark = getattr(err, "problem_mark", None)
        where = (
            f" (line {mark.line + 2})" if mark is not None else ""
        )  # +1 for 0-based, +1 for the opening ---
        if "duplicate key" in problem.lower():
            return [f"Duplicated key in the metadata{where}: {problem}"]
        return [f"Invalid YAML in the metadata{where}: {problem}"]
    if data is not None and not isinstance(data, dict):
        return ["The metadata must be a YAML map (key: value)"]
    return []


# ---------------------------------------------------------------------------------------------
# For tests
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def running_hub(monkeypatch: Any = None, tmp_path: Any = None) -> Iterator[HubServer]:
    """Start a :class:`HubServer`; with pytest's ``monkeypatch``, also point the environment at it.

    With ``monkeypatch``: ``HF_ENDPOINT`` is set to the server's URL (for code that reads the
    environment and for subprocesses; huggingface_hub itself read ``HF_ENDPOINT`` when it was
    imported, so in-process clients must be given ``endpoint=server.url``), ``HF_TOKEN`` and
    ``HF_HUB_OFFLINE`` are removed, and huggingface_hub's token file is moved under ``tmp_path`` so a
    developer's own login is never used.
    """
    server = HubServer().start()
    try:
        if monkeypatch is not None:
            from huggingface_hub import constants

            monkeypatch.setenv("HF_ENDPOINT", server.url)
            monkeypatch.delenv("HF_TOKEN", raising=False)
            monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
            monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
            monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False, raising=False)
            if tmp_path is not None:
                monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
                monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf_home" / "token"))
                monkeypatch.setattr(
                    constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "hf_home" / "stored_tokens")
                )
        yield server
    finally:
        server.stop()
