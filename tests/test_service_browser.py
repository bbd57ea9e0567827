"""The leaderboard page in a real headless Chromium: a phone-sized screenshot and the DOM after its JS ran.

The page is served by the real app under uvicorn on 127.0.0.1; the results in its state are
synthetic canonical results from tests/results_factory.py. Skipped only when no Chromium is
installed (CI installs Debian's `chromium`).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from service_support import SECRET, SHA2, TASK, store_result

from energy_badge.service.app import create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium installed (CI: apt-get install chromium)"
)

MODELS = {
    "alice/mid": (2.0, 2.1),
    "bob/lean": (0.10, 0.11),
    "carol/heavy": (12.0, 12.5),
    "dave/small": (0.9, 0.95),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    import uvicorn

    state = tmp_path_factory.mktemp("browser") / "bot.sqlite"
    for model, samples in MODELS.items():
        store_result(state, model, samples=samples)
    store_result(state, "alice/mid", sha=SHA2, samples=(1.9, 2.0))  # the latest result counts
    app = create_app(str(state), webhook_secret=SECRET, task=TASK, hardware_class="H100")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                break
        except OSError:
            time.sleep(0.05)
    yield base
    uv.should_exit = True
    thread.join(10)
    sock.close()


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM is not None
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=60)


def test_the_page_on_a_phone_screenshot(server, tmp_path):
    from PIL import Image

    shot = tmp_path / "phone.png"
    done = chromium(tmp_path, f"--screenshot={shot}", "--window-size=390,844", server + "/")
    assert shot.is_file(), done.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == (390, 844)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 20  # text, lines, stars: not a blank page
    dominant = max(count for count, _ in colours)
    assert dominant < 0.97 * 390 * 844


def rows_in_order(dom: str) -> list[str]:
    body = dom[dom.index("<tbody>") : dom.index("</tbody>")]
    return re.findall(r'<a href="/results/([^"]+)">', body)


def test_the_table_is_there_and_sorts_from_the_fragment(server, tmp_path):
    done = chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom", server + "/")
    dom = done.stdout
    assert '<table class="board"' in dom, done.stderr[-2000:]
    assert rows_in_order(dom) == ["bob/lean", "dave/small", "alice/mid", "carol/heavy"]  # least energy first
    assert "1.95" in dom  # alice/mid's latest result (1.9, 2.0), not the older one
    assert 'aria-label="5 of 5 stars"' in dom

    done = chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom", server + "/#sort=-wh")
    assert 'data-sorted="wh:desc"' in done.stdout, done.stderr[-2000:]
    assert rows_in_order(done.stdout) == ["carol/heavy", "alice/mid", "dave/small", "bob/lean"]

    done = chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom", server + "/?sort=model")
    assert 'data-sorted="model:asc"' in done.stdout
    assert rows_in_order(done.stdout) == ["alice/mid", "bob/lean", "carol/heavy", "dave/small"]
