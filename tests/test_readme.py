"""The README cannot drift: its Python blocks run, in order, in one namespace; a ```text block
right after a Python block is what that block prints; the block tagged ``<!-- layergraph demo -->``
is an excerpt of what ``layergraph demo`` prints. Outputs are compared after the masks below.

Adding a README section: any ```python block must run as written (after the blocks above it)
in a temporary folder, with no browser; follow it with a ```text block to pin its output.
"""
from __future__ import annotations

import contextlib
import io
import pathlib
import re

import numpy as np
import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"(?:<!-- (?P<tag>[^>]*?) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)^```",
                   re.S | re.M)

# What may differ between runs, and nothing else:
TABLE_CELLS_MASKED = slice(3, 8)   # verbose-table cells: Time Elapsed, the two accuracies and
#                                    the two losses (Epoch, Iteration, Base Learning Rate kept)
LINE_MASKS = [
    (r"^(Validation accuracy|Test accuracy): \d+\.\d%$", r"\1: <percent>"),
    (r"^Saved \d+ bytes;", "Saved <n> bytes;"),          # zip size of trained weights
    (r"^Demo finished in \d+ s\.$", "Demo finished in <n> s."),
]


def _blocks() -> list[tuple[str | None, str, str]]:
    return [(m["tag"], m["lang"], m["body"]) for m in BLOCK.finditer(README.read_text())]


def _mask(text: str, all_digits: bool = False) -> list[str]:
    lines = []
    for line in text.rstrip("\n").splitlines():
        cells = line.split("|")
        if len(cells) == 10 and cells[1].strip().isdigit():
            cells[TABLE_CELLS_MASKED] = [" <masked> "] * 5
            line = "|".join(cells)
        for pattern, replacement in LINE_MASKS:
            line = re.sub(pattern, replacement, line)
        if all_digits:
            line = re.sub(r"\d+", "<d>", line)
        lines.append(line.rstrip())
    return lines


def _matches_excerpt(output: list[str], excerpt: list[str], at_end: bool = True) -> bool:
    """The excerpt's segments (split at '...' lines) appear in order as runs of consecutive
    lines of the output, the last one at its end (``at_end``)."""
    segments, current = [], []
    for line in excerpt:
        if line == "...":
            segments.append(current)
            current = []
        else:
            current.append(line)
    segments.append(current)
    start = 0
    for k, segment in enumerate(segments):
        last = at_end and k == len(segments) - 1
        positions = ([len(output) - len(segment)] if last else range(start, len(output)))
        found = next((p for p in positions if p >= start and output[p:p + len(segment)] == segment),
                     None)
        if found is None:
            return False
        start = found + len(segment)
    return True


def test_readme_has_the_blocks_the_tests_read():
    blocks = _blocks()
    assert blocks[0][1] == "python" and blocks[1][1] == "text"       # the first screen
    assert [tag for tag, _, _ in blocks].count("layergraph demo") == 1


def test_python_blocks_run_and_print_what_the_readme_shows(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAYERGRAPH_NO_BROWSER", "1")
    namespace: dict = {"__name__": "__readme__"}
    blocks = _blocks()
    ran = 0
    for k, (tag, lang, body) in enumerate(blocks):
        if lang != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(body, f"README.md python block {ran + 1}", "exec"), namespace)
        ran += 1
        following = blocks[k + 1] if k + 1 < len(blocks) else None
        if following and following[1] == "text" and following[0] is None:
            assert _mask(out.getvalue()) == _mask(following[2]), f"python block {ran} prints"
    assert ran >= 2
    # The first screen's claims: classify returns (labels, scores), and the network learns.
    labels, scores = namespace["YPred"], namespace["scores"]
    assert len(labels) == 128 and scores.shape == (128, 4)
    assert np.mean(labels == namespace["YTest"]) >= 0.85


def _demo_output(argv: list[str]) -> str:
    from layergraph import demo
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        demo.main(argv)
    return out.getvalue()


def _excerpt() -> str:
    return next(body for tag, _, body in _blocks() if tag == "layergraph demo")


def test_demo_excerpt_has_the_shape_of_a_short_demo_run():
    """A 1-epoch run: same lines, same table layout (all numbers masked)."""
    output = _mask(_demo_output(["--skip-displays", "--epochs", "1", "--num-train", "64"]),
                   all_digits=True)
    excerpt = _mask(_excerpt(), all_digits=True)
    # the excerpt's last data row is a validation row of a longer run: keep the first rows
    assert _matches_excerpt(output, excerpt[:excerpt.index("...")], at_end=False)
    tail = excerpt[excerpt.index("...") + 2:]
    assert _matches_excerpt(output, ["..."] + tail)


@pytest.mark.slow
def test_demo_excerpt_matches_the_demo():
    """The whole demo (25-30 s): the excerpt with only the masked cells and lines differing."""
    assert _matches_excerpt(_mask(_demo_output(["--skip-displays"])), _mask(_excerpt()))
