"""The page in a real headless Chromium, loaded from a running daemon on the demo image: a
frame arrives with a face box drawn over it, the token travels in the URL fragment only,
and without it the page asks for it. Needs Debian's chromium (.ci/run installs it): skipped
where it is missing, failed where CI=true."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.support.chromium import HELP, chromium_binary, dump_dom, screenshot
from tests.edge.http.conftest import TOKEN, Served

pytestmark = [pytest.mark.daemon, pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def chromium() -> Iterator[None]:
    if chromium_binary() is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no Chromium on CI: {HELP}")
        pytest.skip(f"no Chromium: {HELP}")
    yield


def test_a_frame_with_a_face_box_arrives(served: Served, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{served.port}/#token={TOKEN}"
    dom = dump_dom(url)
    assert re.search(r'<img id="frame"[^>]* src="blob:http://127\.0\.0\.1', dom), dom[-3000:]
    boxes = re.findall(r'<div class="box" style="([^"]*)"><span>([^<]*)</span>', dom)
    assert len(boxes) == 1, dom[-3000:]
    style, label = boxes[0]
    assert "left:" in style and "width:" in style
    assert re.fullmatch(r"(#\d+ )?\w+ \d+%", label), label
    assert "1 face(s)" in dom
    assert 'id="login" hidden' in dom  # the token from the fragment was taken
    assert TOKEN not in served.daemon.log_text()  # nor logged by the daemon
    png = screenshot(url, tmp_path / "page.png", width=412, height=900)
    assert png.stat().st_size > 10_000


def test_without_the_token_the_page_asks_for_it(served: Served) -> None:
    dom = dump_dom(f"http://127.0.0.1:{served.port}/", budget_ms=3_000)
    assert re.search(r'<form id="login">', dom), dom[-3000:]
    assert re.search(r'<main id="main" hidden', dom)
    assert 'class="box"' not in dom
