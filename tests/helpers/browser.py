"""Headless Chromium for page tests: load a file, dump the DOM, take a screenshot, read the console.

No DevTools protocol: one ``chromium --headless --dump-dom --screenshot`` run per page; the
page's own self-check writes its results into the DOM, and ``--enable-logging=stderr --v=0``
puts every console message (errors included) on stderr as ``...:CONSOLE:...`` lines.
"""
from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import subprocess
import tempfile

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--hide-scrollbars")


def find_chromium() -> str | None:
    """The browser executable (``LAYERGRAPH_CHROMIUM`` or a Chromium on PATH), or None."""
    given = os.environ.get("LAYERGRAPH_CHROMIUM")
    if given:
        return given
    return next(filter(None, map(shutil.which, CANDIDATES)), None)


@dataclasses.dataclass
class PageRun:
    dom: str
    console: list[str]          # every console message chromium logged
    screenshot: pathlib.Path
    returncode: int


def load_page(html_path: str | os.PathLike, screenshot: str | os.PathLike, fragment: str = "",
              window=(1200, 900), timeout: float = 60) -> PageRun:
    """Open ``file://html_path#fragment`` in a fresh profile; DOM after load, console, screenshot."""
    exe = find_chromium()
    if exe is None:
        raise RuntimeError("chromium is not installed")
    url = pathlib.Path(html_path).resolve().as_uri() + (f"#{fragment}" if fragment else "")
    with tempfile.TemporaryDirectory(prefix="lg-chromium-") as profile:
        proc = subprocess.run(
            [exe, *FLAGS, f"--user-data-dir={profile}", f"--window-size={window[0]},{window[1]}",
             f"--screenshot={os.fspath(screenshot)}", "--dump-dom", url],
            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return PageRun(proc.stdout, console, pathlib.Path(screenshot), proc.returncode)
