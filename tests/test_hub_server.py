"""Tests of the loopback Hub (tests/hub_server.py) against the real huggingface_hub client.

Only HTTP is simulated. These tests pin down the protocol facts the hub stage relies on, as
huggingface_hub 2.x sees them: which errors its error headers become, how it parses rate-limit
headers, that it never retries the commit POST itself, that it skips no-op commits (while the
commit endpoint alone would record an empty commit), and that downloads work.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import CommitOperationAdd, HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import get_session, parse_ratelimit_headers

try:
    from hub_server import Fault, HubServer, git_blob_sha1, running_hub
except ImportError:  # pragma: no cover - when tests/ is imported as a package
    from tests.hub_server import Fault, HubServer, git_blob_sha1, running_hub

TOKEN = "hf_ownerToken000000000000000000000"
OTHER = "hf_otherToken000000000000000000000"
REPO = "owner/model"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubServer]:
    with running_hub(monkeypatch, tmp_path) as server:
        server.add_user("owner", TOKEN)
        server.add_user("other", OTHER)
        server.create_repo(REPO, {"README.md": b"# Model\n", "config.json": b"{}"})
        yield server


@pytest.fixture
def api(hub: HubServer) -> HfApi:
    return HfApi(endpoint=hub.url, token=TOKEN)


def _raw_commit(hub: HubServer, files: dict[str, bytes], summary: str, parent: str | None = None):
    header: dict = {"summary": summary, "description": ""}
    if parent:
        header["parentCommit"] = parent
    lines = [{"key": "header", "value": header}] + [
        {"key": "file", "value": {"path": p, "content": base64.b64encode(c).decode(), "encoding": "base64"}}
        for p, c in files.items()
    ]
    return get_session().post(
        f"{hub.url}/api/models/{REPO}/commit/main",
        content=b"".join(json.dumps(line).encode() + b"\n" for line in lines),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson"},
    )


def test_whoami_and_model_info(api: HfApi, hub: HubServer) -> None:
    assert api.whoami()["name"] == "owner"
    info = api.model_info(REPO, files_metadata=True)
    assert info.sha == hub.head(REPO)
    blobs = {s.rfilename: s.blob_id for s in info.siblings or []}
    assert blobs["README.md"] == git_blob_sha1(b"# Model\n")
    assert set(blobs) == {".gitattributes", "README.md", "config.json"}
    assert [c.title for c in api.list_repo_commits(REPO)] == ["Upload files", "initial commit"]


def test_no_op_commits(api: HfApi, hub: HubServer) -> None:
    """The commit endpoint records an empty commit for identical files (as the Hub did, issue #1411);
    huggingface_hub's create_commit avoids it through /preupload's oids and makes no request."""
    head = hub.head(REPO)
    info = api.create_commit(REPO, [CommitOperationAdd("README.md", b"# Model\n")], commit_message="same")
    assert info.oid == head and hub.head(REPO) == head
    assert hub.count("POST", r"/commit/") == 0

    response = _raw_commit(hub, {"README.md": b"# Model\n"}, "raw identical commit")
    assert response.status_code == 200
    assert hub.head(REPO) != head
    assert hub.history(REPO)[0].tree == hub.history(REPO)[1].tree


def test_stale_parent_gets_412(api: HfApi, hub: HubServer) -> None:
    old = hub.head(REPO)
    hub.push(REPO, {"other.txt": b"x"})
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_commit(REPO, [CommitOperationAdd("a.txt", b"a")], commit_message="late", parent_commit=old)
    assert caught.value.response.status_code == 412
    assert hub.file(REPO, "a.txt") is None


def test_create_pr_branches_from_the_parent_commit(api: HfApi, hub: HubServer) -> None:
    old = hub.head(REPO)
    hub.push(REPO, {"later.txt": b"x"})
    info = api.create_commit(
        REPO, [CommitOperationAdd("a.txt", b"a")], commit_message="Add a", create_pr=True, parent_commit=old
    )
    assert info.pr_num == 1 and info.pr_url == f"{hub.url}/{REPO}/discussions/1"
    assert hub.history(REPO, "refs/pr/1")[1].sha == old
    assert hub.file(REPO, "later.txt", "refs/pr/1") is None
    details = api.get_discussion_details(REPO, 1)
    assert details.is_pull_request and details.title == "Add a" and details.author == "owner"
    assert details.target_branch == "refs/heads/main"


def test_error_headers_become_huggingface_hub_errors(api: HfApi, hub: HubServer, tmp_path: Path) -> None:
    hub.create_repo("org/gated", {"README.md": b"x"}, gated=True)
    hub.create_repo("org/private", {"README.md": b"x"}, private=True)
    other = HfApi(endpoint=hub.url, token=OTHER)
    anonymous = HfApi(endpoint=hub.url, token=False)
    with pytest.raises(RepositoryNotFoundError):
        other.model_info("org/private")
    with pytest.raises(RepositoryNotFoundError) as caught:
        anonymous.model_info("org/nothing-here")
    assert caught.value.response.status_code == 401
    with pytest.raises(GatedRepoError):
        other.hf_hub_download("org/gated", "README.md", cache_dir=tmp_path)
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="no-such-branch")
    with pytest.raises(RemoteEntryNotFoundError):
        api.hf_hub_download(REPO, "missing.txt", cache_dir=tmp_path)
    with pytest.raises(HfHubHTTPError) as caught:
        HfApi(endpoint=hub.url, token="hf_wrong").model_info(REPO)
    assert caught.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as caught:
        other.create_commit(REPO, [CommitOperationAdd("x", b"x")], commit_message="not mine")
    assert caught.value.response.status_code == 403


def test_rate_limit_headers_as_huggingface_hub_parses_them(api: HfApi, hub: HubServer) -> None:
    hub.inject(Fault.rate_limit(reset=42), method="GET", path=rf"/api/models/{REPO}$")
    with pytest.raises(HfHubHTTPError) as caught:
        api.model_info(REPO)
    assert caught.value.response.status_code == 429
    assert "Retry after 42 seconds" in str(caught.value)
    info = parse_ratelimit_headers(caught.value.response.headers)
    assert info is not None and (info.remaining, info.reset_in_seconds, info.limit) == (0, 42, 1000)
    ok = get_session().get(f"{hub.url}/api/models/{REPO}")
    normal = parse_ratelimit_headers(ok.headers)
    assert normal is not None and normal.remaining > 0


def test_huggingface_hub_retries_preupload_but_not_the_commit_post(
    api: HfApi, hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/preupload goes through http_backoff (a 429 is waited out: t + 1 s); the commit POST does not."""
    import huggingface_hub.utils._http as http

    slept: list[float] = []
    monkeypatch.setattr(http.time, "sleep", slept.append)
    hub.inject(Fault.rate_limit(reset=3), method="POST", path=r"/preupload/main$")
    api.create_commit(REPO, [CommitOperationAdd("a.txt", b"a")], commit_message="after a wait")
    assert slept == [4.0]

    hub.inject(Fault.error(503), method="POST", path=r"/commit/main$")
    with pytest.raises(HfHubHTTPError) as caught:
        api.create_commit(REPO, [CommitOperationAdd("b.txt", b"b")], commit_message="fails once")
    assert caught.value.response.status_code == 503
    assert hub.count("POST", r"/commit/main$") == 2  # one success above, one failure: no retry


def test_faults_drop_the_connection(api: HfApi, hub: HubServer) -> None:
    hub.inject(Fault.drop_after(), method="POST", path=r"/commit/main$")
    with pytest.raises(httpx2.RemoteProtocolError):
        api.create_commit(REPO, [CommitOperationAdd("a.txt", b"a")], commit_message="landed anyway")
    assert hub.file(REPO, "a.txt") == b"a"


def test_downloads(api: HfApi, hub: HubServer, tmp_path: Path) -> None:
    path = hf_hub_download(REPO, "README.md", endpoint=hub.url, token=TOKEN, cache_dir=tmp_path / "c1")
    assert Path(path).read_bytes() == b"# Model\n"
    api.create_commit(REPO, [CommitOperationAdd("sub/x.txt", b"x")], commit_message="PR", create_pr=True)
    pr_file = api.hf_hub_download(REPO, "sub/x.txt", revision="refs/pr/1", cache_dir=tmp_path / "c2")
    assert Path(pr_file).read_bytes() == b"x"
    folder = snapshot_download(
        REPO, revision="refs/pr/1", endpoint=hub.url, token=TOKEN, cache_dir=tmp_path / "c3"
    )
    assert (Path(folder) / "sub" / "x.txt").read_bytes() == b"x"
    assert sorted(f for f in api.list_repo_files(REPO, revision="refs/pr/1")) == [
        ".gitattributes",
        "README.md",
        "config.json",
        "sub/x.txt",
    ]


def test_discussion_filters_and_pages(api: HfApi, hub: HubServer) -> None:
    for i in range(60):
        hub.open_pull_request(REPO, f"PR number {i}", "other" if i % 2 else "owner", {f"f{i}": b"x"})
    api.create_discussion(REPO, "Just a question")
    hub.repos[REPO].discussions[0].status = "closed"
    prs = list(api.get_repo_discussions(REPO, discussion_type="pull_request", discussion_status="open"))
    assert len(prs) == 59 and all(d.is_pull_request and d.status == "open" for d in prs)
    mine = list(api.get_repo_discussions(REPO, author="owner", discussion_type="pull_request"))
    assert len(mine) == 30 and {d.author for d in mine} == {"owner"}
    assert len(list(api.get_repo_discussions(REPO))) == 61
    assert prs[0].git_reference == "refs/pr/60"


def test_commit_history_pages(api: HfApi, hub: HubServer) -> None:
    for i in range(120):
        hub.push(REPO, {"n.txt": str(i).encode()}, title=f"c{i}")
    commits = api.list_repo_commits(REPO)
    assert len(commits) == 122 and commits[0].title == "c119"


def test_validate_yaml(api: HfApi, hub: HubServer) -> None:
    good = "\ufeff\r\n---\r\nlicense: mit\r\nwidget:\r\n- text: Привет 👋\r\n---\r\nbody\r\n"
    api.create_commit(REPO, [CommitOperationAdd("README.md", good.encode())], commit_message="bom, crlf")
    for bad, reason in (
        ("---\nlicense: mit\nlicense: apache-2.0\n---\n", "Duplicated key"),
        ("---\nmodel-index:\n- name: x\n  name: y\n---\n", "Duplicated key"),
        ("---\n- a\n- b\n---\n", "map"),
        ("---\nlicense: [mit\n---\n", "Invalid YAML"),
    ):
        with pytest.raises(ValueError, match=reason):
            api.create_commit(REPO, [CommitOperationAdd("README.md", bad.encode())], commit_message="bad")
    assert hub.file(REPO, "README.md") == good.encode()


def test_merge_is_a_three_way_merge(api: HfApi, hub: HubServer) -> None:
    card = b"# Model\n\nline 1\nline 2\nline 3\n"
    hub.push(REPO, {"README.md": card})
    api.create_commit(
        REPO, [CommitOperationAdd("README.md", card + b"badge\n")], commit_message="Badge", create_pr=True
    )
    hub.push(REPO, {"README.md": card.replace(b"# Model", b"# Model v2")})
    api.merge_pull_request(REPO, 1)
    assert hub.file(REPO, "README.md") == b"# Model v2\n\nline 1\nline 2\nline 3\nbadge\n"
    assert hub.pull_requests(REPO, "merged")[0].num == 1
