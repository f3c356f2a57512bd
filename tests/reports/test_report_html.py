"""scenegen.reports.coverage_page: the self-contained HTML coverage page."""

from __future__ import annotations

import base64
import copy
import importlib.util
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scenegen.reports.coverage_page import (
    LOW_COLOR,
    MAX_MISSING_ROWS,
    MISSING_COLOR,
    count_color,
    referenced_scenes,
    render_html,
    write_html,
)
from scenegen.reports.html import thumbnail_png

ROOT = Path(__file__).resolve().parents[2]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
EVIL = "<b>&"  # a level name that must come out escaped


def png_bytes(color, size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def make_report(missing=None, split=True) -> dict:
    levels = {"category": ["chair", "lamp", EVIL], "pose": ["front", "side"], "context": ["indoor", "outdoor"]}
    report = {
        "title": "scenegen coverage: <ds> & co",
        "scenes": 12,
        "objects": 57,
        "strength": 2,
        "min_count": 2,
        "unit": "objects",
        "factors": ["category", "pose", "context"],
        "levels": levels,
        "level_counts": {
            "category": {"chair": 30, "lamp": 27, EVIL: 0},
            "pose": {"front": 40, "side": 17},
            "context": {"indoor": 50, "outdoor": 7},
        },
        "tuples": 14,
        "covered": 9,
        "coverage": 9 / 14,
        "per_combination": {"category x pose": [4, 6], "category x context": [2, 5], "pose x context": [3, 3]},
        "pairs": [
            {"factors": ["category", "pose"], "counts": [[25, 5], [1, 26], [0, 0]],
             "examples": [[3, 7], [7, 4], [None, None]]},
            {"factors": ["category", "context"], "counts": [[28, 2], [27, None], [0, 0]],
             "examples": [[3, 5], [4, None], [None, None]]},
            {"factors": ["pose", "context"], "counts": [[36, 4], [14, 3]],
             "examples": [[3, 5], [4, 5]]},
        ],
        "missing": missing if missing is not None else [
            {"category": "lamp", "pose": "front"},
            {"category": EVIL, "pose": "front"},
            {"category": EVIL, "context": "outdoor"},
        ],
    }
    if split:
        report["split"] = {"held_out": [{"category": "lamp", "context": "indoor"}], "train_scenes": 10,
                           "test_scenes": 2, "guarantees": {"held-out absent from train": True, "balanced": False}}
    return report


THUMBS = {
    3: png_bytes((200, 30, 30)),
    4: png_bytes((30, 200, 30)),
    5: png_bytes((30, 30, 200)),
    7: png_bytes((200, 200, 30)),
    99: png_bytes((90, 90, 90)),  # named in no example: must not be embedded
}


class PageParser(HTMLParser):
    """Checks that tags nest properly and collects what the tests look at."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags = [], [], []
        self.urls = []  # every src / href value and url(...) in style attributes
        self.cards = {}  # data-pair -> list of rows, each a list of td attribute dicts
        self._card = None
        self.text = []

    def handle_starttag(self, tag, attrs):
        self._start(tag, dict(attrs))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, dict(attrs))

    def _start(self, tag, attrs):
        self.tags.append((tag, attrs))
        for name in ("src", "href", "xlink:href"):
            if name in attrs:
                self.urls.append(attrs[name])
        self.urls += re.findall(r"url\(([^)]*)\)", attrs.get("style") or "")
        if "data-pair" in attrs:
            self._card = self.cards.setdefault(attrs["data-pair"], [])
        elif tag == "tr" and self._card is not None:
            self._card.append([])
        elif tag == "td" and self._card is not None:
            self._card[-1].append(attrs)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'} at {self.getpos()}")
            return
        self.stack.pop()
        if tag == "table":
            self._card = None

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(make_report(), THUMBS)


@pytest.fixture(scope="module")
def parsed(page) -> PageParser:
    return parse(page)


def test_parses_and_nests(parsed):
    assert parsed.errors == []
    assert parsed.stack == []
    tags = [t for t, _ in parsed.tags]
    assert tags.count("table") >= 3 + 1 + 1  # heatmaps, combinations, missing
    assert tags.count("svg") == 3  # one histogram per factor


def test_self_contained(page, parsed):
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower() and "<link" not in page.lower()
    css_urls = re.findall(r"url\(([^)]*)\)", page)
    assert css_urls  # the thumbnails
    for url in parsed.urls + css_urls:
        url = url.strip("'\" ")
        assert url.startswith("#") or url.startswith("data:"), url
        assert not url.startswith("//")


def test_heatmap_cells_match_counts(parsed):
    report = make_report()
    for pair in report["pairs"]:
        a, b = pair["factors"]
        rows = [r for r in parsed.cards[f"{a}|{b}"] if r]  # the header row has no <td>
        assert len(rows) == len(report["levels"][a])
        for row, counts, examples in zip(rows, pair["counts"], pair["examples"]):
            assert len(row) == len(counts)
            for cell, count, example in zip(row, counts, examples):
                if count is None:
                    assert cell["data-state"] == "infeasible" and cell["data-count"] == "none"
                    continue
                assert int(cell["data-count"]) == count
                expected = "missing" if count == 0 else "low" if count < report["min_count"] else "covered"
                assert cell["data-state"] == expected
                assert ("ex" in cell["class"].split()) == (example is not None and count > 0)
                assert cell["title"].startswith(f"{a}=")
                assert f": {count} object" in cell["title"]


def test_heatmap_cell_text_and_classes(page):
    assert re.search(r'<td class="missing" data-state="missing" data-count="0"[^>]*>0</td>', page)
    assert '<td class="infeasible" data-state="infeasible" data-count="none" title="category=lamp, ' \
           'context=outdoor: infeasible">–</td>' in page
    assert 'title="category=chair, pose=front: 25 objects; example: scene 3"' in page
    assert 'title="category=lamp, pose=front: 1 object (below min_count 2); example: scene 7"' in page


def test_thumbnails_embedded_once(page):
    assert referenced_scenes(make_report()) == [3, 4, 5, 7]
    for scene, data in THUMBS.items():
        encoded = base64.b64encode(data).decode("ascii")
        assert page.count(encoded) == (0 if scene == 99 else 1), scene
        assert (f".s{scene}{{background-image:url(data:image/png;base64," in page) == (scene != 99)
    # cells only point at embedded scenes; a scene without a thumbnail has no hover
    no_thumb = render_html(make_report(), {3: THUMBS[3]})
    assert "pop s3" in no_thumb and "pop s4" not in no_thumb and "s4{" not in no_thumb


def test_missing_tuples_listed(page):
    assert 'id="missing-table"' in page
    assert "<td>lamp</td><td>front</td>" in page
    assert "<td>&lt;b&gt;&amp;</td><td>front</td>" in page
    assert "<td>&lt;b&gt;&amp;</td><td class=\"dot\">·</td><td>outdoor</td>" in page
    assert "more</p>" not in page


def test_missing_truncated():
    missing = [{"category": "chair", "pose": f"p{i}"} for i in range(MAX_MISSING_ROWS + 123)]
    page = render_html(make_report(missing=missing), THUMBS)
    table = page[page.index('id="missing-table"'):page.index("</table>", page.index('id="missing-table"'))]
    assert table.count("<tr>") == MAX_MISSING_ROWS + 1  # + the header row
    assert f"<td>p{MAX_MISSING_ROWS - 1}</td>" in table and f"<td>p{MAX_MISSING_ROWS}</td>" not in table
    assert "… and 123 more" in page


def test_no_missing():
    assert "every feasible tuple is covered" in render_html(make_report(missing=[]), THUMBS)


def test_text_escaped(page, parsed):
    assert "<b>&" not in page
    assert "&lt;b&gt;&amp;" in page
    assert "<title>scenegen coverage: &lt;ds&gt; &amp; co</title>" in page
    assert "scenegen coverage: <ds> & co" in "".join(parsed.text)
    assert EVIL in "".join(parsed.text)  # the level name is text, not a tag


def test_summary_histograms_and_split(page):
    assert "12 scenes, 57 objects; 2-way coverage 9 / 14 tuples (64.3%)" in page
    assert "category × pose" in page and ">66.7%<" in page and ">100.0%<" in page
    assert 'class="zero">&lt;b&gt;&amp;</text>' in page  # the empty level is highlighted
    assert 'id="split-table"' in page and "category=lamp, context=indoor" in page
    assert "✓</span> held-out absent from train" in page and "✗</span> balanced" in page
    assert 'id="split"' not in render_html(make_report(split=False), THUMBS)


def test_deterministic(page):
    report = make_report()
    again = render_html(copy.deepcopy(report), dict(reversed(list(THUMBS.items()))))
    assert again == page == render_html(report, THUMBS)


def test_bad_shape_raises():
    report = make_report()
    report["pairs"][0]["counts"] = [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match="category x pose"):
        render_html(report, THUMBS)


def test_count_color_scale():
    assert count_color(1, 100) != count_color(100, 100)
    assert count_color(5, 5) == count_color(50, 50)  # the top of the scale
    assert re.fullmatch(r"#[0-9a-f]{6}", count_color(7, 100))


def test_thumbnail_png(tmp_path):
    path = tmp_path / "wide.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (100, 200, 3), dtype=np.uint8)).save(path)
    data = thumbnail_png(path)
    assert data == thumbnail_png(path) and data.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (96, 48) and image.mode == "RGB"
    tall = tmp_path / "tall.png"
    Image.new("RGBA", (50, 120), (10, 20, 30, 128)).save(tall)
    with Image.open(io.BytesIO(thumbnail_png(tall, size=60))) as image:
        assert image.size == (25, 60) and image.mode == "RGBA"
    with Image.open(io.BytesIO(thumbnail_png(io.BytesIO(png_bytes((1, 2, 3), (10, 8))), size=40))) as image:
        assert image.size == (40, 32)  # small images are scaled up
    with pytest.raises(ValueError):
        thumbnail_png(path, size=0)


def test_write_html(tmp_path):
    target = tmp_path / "out" / "coverage.html"
    result = write_html(str(target), make_report(), THUMBS)
    assert isinstance(result, Path) and result == target
    assert target.read_text(encoding="utf-8") == render_html(make_report(), THUMBS)
    assert [p.name for p in target.parent.iterdir()] == ["coverage.html"]  # no temporary left


def _checker():
    spec = importlib.util.spec_from_file_location("check_html_report", ROOT / "benchmarks" / "check_html_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_headless_browser_screenshot(tmp_path):
    checker = _checker()
    browser = checker.find_browser()
    if browser is None:
        pytest.skip("no headless chromium")
    report = make_report()
    html_path = write_html(tmp_path / "report.html", report, THUMBS)
    png = checker.screenshot(browser, html_path, tmp_path / "shot.png", (1200, 2000), timeout=60)
    with Image.open(png) as image:
        assert image.size == (1200, 2000)
        rgb = np.asarray(image.convert("RGB"))
    assert checker.distinct_colors(png) > 50
    top = max(c for pair in report["pairs"] for row in pair["counts"] for c in row if c is not None)
    for color in (MISSING_COLOR, LOW_COLOR, count_color(top, top)):
        wanted = tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
        assert (rgb == wanted).all(axis=-1).sum() > 200, color  # at least a cell's worth
