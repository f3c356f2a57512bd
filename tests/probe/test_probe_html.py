"""scenegen.probe.html: the self-contained HTML page of a worst-case probe report."""

from __future__ import annotations

import base64
import copy
import io
import re
from html.parser import HTMLParser

import pytest
from PIL import Image

from scenegen.probe.html import (
    ACCURACY_SCALE,
    MAX_TUPLE_ROWS,
    accuracy_color,
    render_probe_html,
    write_probe_html,
)

EVIL = "<script>alert('x')</script>"  # a level name that must come out escaped
FACTORS = ["category", "context", "occlusion"]
LEVELS = {
    "category": ["chair", "lamp", EVIL],
    "context": ["indoor", "outdoor"],
    "occlusion": ["none", "heavy"],
    "light": ["bright", "dim"],  # measured, not searched
}
SECTION_IDS = ["findings", "strengths", "levels", "heatmaps", "tuples", "failures", "local", "skipped", "history"]


def entry(correct: int, n: int, **extra) -> dict:
    """A level / tuple entry; the interval is a made-up band around the accuracy."""
    accuracy = correct / n if n else None
    ci = None if accuracy is None else [max(0.0, accuracy - 0.2), min(1.0, accuracy + 0.2)]
    return {**extra, "n": n, "correct": correct, "accuracy": accuracy, "ci": ci}


def make_report(findings=True, local=True, tuples=None, skipped=True) -> dict:
    counts = {"chair": (4, 10), "lamp": (9, 10), EVIL: (0, 0), "indoor": (10, 11), "outdoor": (3, 9),
              "none": (8, 9), "heavy": (5, 11), "bright": (7, 10), "dim": (6, 10)}
    levels = {f: [entry(*counts[lv], level=lv) for lv in lvs] for f, lvs in LEVELS.items()}
    worst = entry(1, 6, tuple={"category": "chair", "context": "outdoor"})
    if tuples is None:
        tuples = [
            worst,
            entry(3, 9, tuple={"context": "outdoor"}),
            entry(2, 4, tuple={"context": "outdoor", "occlusion": "heavy"}),  # keys out of factor order
            entry(3, 4, tuple={"category": "chair", "context": "indoor"}),
            entry(4, 4, tuple={"category": "lamp", "context": "outdoor"}),
            entry(5, 6, tuple={"category": "lamp", "context": "indoor"}),
            entry(1, 1, tuple={"category": "chair", "light": "dim"}),  # light is not searched
        ]
    failure_levels = {"category": EVIL, "context": "outdoor", "occlusion": "heavy", "light": "dim"}
    failures = [
        {"id": 17, "index": 1000017, "phase": "sweep", "truth": "chair", "prediction": "table", "score": 0.12,
         "factors": {**failure_levels, "category": "chair"}, "requested": {"category": "chair", "context": "outdoor"}},
        {"id": 4, "index": 1000004, "phase": "local", "truth": EVIL, "prediction": "lamp & co", "score": 0.2,
         "factors": failure_levels, "requested": {"category": EVIL, "context": "indoor"}},
        {"id": 9, "index": 1000009, "phase": "sweep", "truth": "lamp", "prediction": "chair", "score": 0.31,
         "factors": {**failure_levels, "category": "lamp"}, "requested": {}},
    ]
    return {
        "schema": 1,
        "title": "scenegen probe: <model> & co",
        "model": "examples.probe.classifier:predict",
        "task": "classification",
        "input": {"kind": "crop", "crop_size": 224, "crop_margin": 0.1, "scores": "probabilities"},
        "strategy": "adaptive",
        "budget": 40, "renders": 32, "seed": 7, "strength": 2, "confidence": 0.95,
        "skipped": [{"index": 1000003, "requested": {"category": "chair", "context": "outdoor"},
                     "error": f"could not place a layout in context 'outdoor' {EVIL}"}] if skipped else [],
        "factors": FACTORS,
        "overall": entry(20, 32),
        "levels": levels,
        "strengths": [
            {"strength": 1, "cells": 6, "mean": 0.6, "overall": 0.625, "min": tuples[1]},
            {"strength": 2, "cells": 5, "mean": 0.55, "overall": 0.625, "min": worst},
        ],
        "tuples": tuples,
        "findings": [worst, entry(0, 3, tuple={"category": EVIL, "occlusion": "none"})] if findings else [],
        "failures": failures,
        "local_search": {
            "tuple": {"category": "chair", "context": "outdoor"}, "renders": 12, "failures": 7,
            "start": {"id": 9, "score": 0.45}, "best": {"id": 21, "score": 0.02},
            "steps": [{"renders": 4, "score": 0.3, "change": "yaw +12.0 deg"},
                      {"renders": 12, "score": 0.02, "change": "occluder <left>"}],
        } if local else None,
        "history": [
            {"renders": 8, "worst": None, "accuracy": None, "upper": None},
            {"renders": 16, "worst": {"context": "outdoor"}, "accuracy": 0.4, "upper": 0.8},
            {"renders": 32, "worst": {"category": "chair", "context": "outdoor"}, "accuracy": 0.17, "upper": 0.5},
        ],
    }


def png(color) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), color).save(buffer, format="PNG")
    return buffer.getvalue()


# failures 17 and 4 have thumbnails, 9 has none; 21 is local search's best; 99 is unreferenced
THUMBS = {17: png((200, 0, 0)), 4: png((0, 200, 0)), 21: png((0, 0, 200)), 99: png((9, 9, 9))}


class Page(HTMLParser):
    """Every start tag with its attributes and enclosing tags, the text, nesting errors."""

    VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "col", "wbr", "source"})

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.open, self.elements, self.texts, self.errors = [], [], [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), tuple(t for t, _ in self.open)))
        if tag not in self.VOID:
            self.open.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), tuple(t for t, _ in self.open)))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if self.open and self.open[-1][0] == tag:
            self.open.pop()
        else:
            self.errors.append((tag, self.getpos()))

    def handle_data(self, data):
        self.texts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)

    def find(self, tag=None, **attrs):
        """Elements with ``tag`` whose attributes include ``attrs`` (``data_x`` -> ``data-x``)."""
        want = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [a for t, a, _ in self.elements
                if (tag is None or t == tag) and all(a.get(k) == v for k, v in want.items())]


@pytest.fixture(scope="module")
def page() -> str:
    return render_probe_html(make_report(), THUMBS)


@pytest.fixture(scope="module")
def parsed(page) -> Page:
    return Page(page)


def fragment(page: str, marker: str, end: str = "</table>") -> str:
    """The page from the tag holding ``marker`` to the next ``end``."""
    start = page.rindex("<", 0, page.index(marker))
    return page[start:page.index(end, start)]


def heatmap_rows(page: str, pair: str):
    """The ``<td>`` attribute dicts of each body row of the heatmap card ``data-pair=pair``."""
    table = fragment(page, f'data-pair="{pair}"')
    body = table[table.index("<tbody>"):]
    return [[a for t, a, _ in Page(row).elements if t == "td"] for row in body.split("<tr>")[1:]]


def test_well_formed_and_sections_in_order(page, parsed):
    assert page.startswith("<!DOCTYPE html>")
    assert parsed.errors == [] and parsed.open == []
    positions = [page.index(f'<section id="{s}">') for s in SECTION_IDS]
    assert positions == sorted(positions)
    assert page.index("<header>") < positions[0]
    # one level chart per measured factor, one line chart for local search and one for history
    assert len(parsed.find("svg", **{"class": "lv"})) == len(LEVELS)
    assert len(parsed.find("svg", **{"class": "chart"})) == 2


def test_self_contained(page, parsed):
    csp = parsed.find("meta", **{"http-equiv": "Content-Security-Policy"})
    assert len(csp) == 1 and "default-src 'none'" in csp[0]["content"]
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower() and "<link" not in page.lower() and "<img" not in page.lower()
    urls = [a[k] for _, a, _ in parsed.elements for k in ("src", "href", "xlink:href") if k in a]
    urls += re.findall(r"url\(([^)]*)\)", page)
    assert any(u.startswith("data:image/png;base64,") for u in urls)
    for url in urls:
        assert url.startswith("#") or url.startswith("data:"), url
    assert " src=" not in page


def test_text_escaped(page, parsed):
    assert EVIL not in page and "&lt;script&gt;" in page
    assert EVIL in parsed.text  # shown as text, not as a tag
    assert "<title>scenegen probe: &lt;model&gt; &amp; co</title>" in page
    assert "occluder <left>" in parsed.text and "<left>" not in page
    # failure labels: truth -> prediction, score, levels of the searched factors, scene index, phase
    text = " ".join(parsed.text.split())
    for label in ["chair → table", f"{EVIL} → lamp & co", "lamp → chair", "score 0.12", "score 0.31",
                  f"category={EVIL}", "occlusion=heavy", "scene 1000004 local", "scene 1000009 sweep"]:
        assert label in text, label
    cards = fragment(page, 'id="failures"', "</section>")
    assert "light=dim" not in " ".join(Page(cards).text.split())  # not searched: only in the tooltip
    assert 'title="light=dim"' in cards


def test_findings_rows(page, parsed):
    report = make_report()
    findings = Page(fragment(page, 'id="findings-table"')).find("tr")[1:]  # less the header row
    expected = ["category=chair · context=outdoor", f"category={EVIL} · occlusion=none"]
    assert [a["data-tuple"] for a in findings] == expected
    for attrs, finding in zip(findings, report["findings"]):
        assert float(attrs["data-accuracy"]) == finding["accuracy"]
        assert int(attrs["data-n"]) == finding["n"]
    assert "No tuple is significantly worse" not in parsed.text


def test_no_findings_message():
    page = render_probe_html(make_report(findings=False), THUMBS)
    assert "No tuple is significantly worse than the other tuples of its size" in page
    assert 'id="findings-table"' not in page


def test_thumbnails_embedded_once(page, parsed):
    report = make_report()
    referenced = {f["id"] for f in report["failures"]} | {9, 21}  # + local search start / best
    embedded = re.findall(r"\.t(\d+)\{background-image:url\(data:image/png;base64,", page)
    assert sorted(int(i) for i in embedded) == sorted(referenced & set(THUMBS)) == [4, 17, 21]
    for scene, data in THUMBS.items():
        assert page.count(base64.b64encode(data).decode("ascii")) == (0 if scene == 99 else 1), scene
    cards = parsed.find("div", **{"class": "fail"})
    assert [int(c["data-id"]) for c in cards] == [17, 4, 9]
    # failure 9 and local search's start (also 9) show the placeholder; 17, 4 and 21 their images
    assert len(parsed.find("div", **{"class": "thumb none"})) == 2
    shown = sorted(a["class"] for a in (x for _, x, _ in parsed.elements)
                   if re.fullmatch(r"thumb t\d+", a.get("class", "")))
    assert shown == ["thumb t17", "thumb t21", "thumb t4"]


def test_heatmap_cells(page, parsed):
    report = make_report()
    pairs = [a["data-pair"] for a in parsed.find("div") if "data-pair" in a]
    # only pairs of searched factors with a strength-2 tuple, in factor order
    assert pairs == ["category|context", "context|occlusion"]
    for pair in pairs:
        a, b = pair.split("|")
        rows = heatmap_rows(page, pair)
        assert len(rows) == len(LEVELS[a])
        assert all(len(row) == len(LEVELS[b]) for row in rows)
    cells = heatmap_rows(page, "category|context")
    chair_outdoor = cells[0][1]
    assert float(chair_outdoor["data-accuracy"]) == 1 / 6 and chair_outdoor["data-n"] == "6"
    assert chair_outdoor["class"] == "v finding"
    assert chair_outdoor["style"].startswith(f"background:{accuracy_color(1 / 6)}")
    assert cells[1][1]["data-accuracy"] == "1.0" and cells[1][1]["class"] == "v"
    assert all(c["data-accuracy"] == "none" and c["class"] == "none" for c in cells[2])  # EVIL: no tuples
    # context x occlusion: the tuple's keys were out of factor order; rows are context levels
    cells = heatmap_rows(page, "context|occlusion")
    assert cells[1][1]["data-accuracy"] == "0.5" and cells[1][1]["data-n"] == "4"
    assert sum(c["data-accuracy"] != "none" for row in cells for c in row) == 1
    assert report["tuples"][2]["tuple"] == {"context": "outdoor", "occlusion": "heavy"}


def test_level_charts(parsed):
    groups = {(a["data-level"]): a for a in parsed.find("g") if "data-level" in a}
    assert groups[EVIL]["data-accuracy"] == "none" and groups[EVIL]["data-n"] == "0"
    assert float(groups["chair"]["data-accuracy"]) == 0.4 and groups["chair"]["data-n"] == "10"
    assert "not seen" in parsed.text and "40.0% · n=10" in parsed.text


def test_strengths_and_worst_tuples(page, parsed):
    assert [a["data-strength"] for a in parsed.find("tr") if "data-strength" in a] == ["1", "2"]
    strengths = " ".join(t.strip() for t in Page(fragment(page, 'id="strengths-table"')).texts if t.strip())
    assert "1 6 62.5% 60.0% context = outdoor 33.3%" in strengths and "2 5 62.5% 55.0%" in strengths
    assert "<td>chair</td><td>outdoor</td>" in page  # the worst tuple, one column per factor
    many = [entry(i % 5, 5, tuple={"category": "chair", "context": f"c{i}"}) for i in range(MAX_TUPLE_ROWS + 7)]
    long_page = render_probe_html(make_report(tuples=many), {})
    table = fragment(long_page, 'id="tuples-table"')
    assert table.count("<tr data-tuple=") == MAX_TUPLE_ROWS
    assert f"<td>c{MAX_TUPLE_ROWS - 1}</td>" in table and f"<td>c{MAX_TUPLE_ROWS}</td>" not in table
    assert "… and 7 more" in long_page


def test_local_search_and_history(page, parsed):
    assert "0.45" in parsed.text and "0.02" in parsed.text and "yaw +12.0 deg" in parsed.text
    assert 'href="#local"' in page
    no_local = render_probe_html(make_report(local=False), THUMBS)
    assert 'id="local"' not in no_local and 'href="#local"' not in no_local
    assert base64.b64encode(THUMBS[21]).decode("ascii") not in no_local  # only local search's best used it
    # history: one marker per entry with a finding, per series (the first entry has none)
    for name in ("upper", "accuracy"):
        assert fragment(page, f'data-series="{name}"', "</g>").count("<circle") == 2
    assert "after 32 renders: category=chair · context=outdoor; upper 50%" in parsed.text


def test_accuracy_color_scale():
    assert accuracy_color(0.0) == ACCURACY_SCALE[0] and accuracy_color(-1) == ACCURACY_SCALE[0]
    assert accuracy_color(1.0) == ACCURACY_SCALE[-1] and accuracy_color(2) == ACCURACY_SCALE[-1]
    assert accuracy_color(0.5) == ACCURACY_SCALE[len(ACCURACY_SCALE) // 2]


def test_deterministic(page):
    report = make_report()
    assert render_probe_html(report, THUMBS) == page
    assert render_probe_html(copy.deepcopy(report), dict(reversed(list(THUMBS.items())))) == page
    assert report == make_report()  # the report is not modified


def test_write_probe_html(tmp_path, page):
    path = write_probe_html(tmp_path / "sub" / "probe.html", make_report(), THUMBS)
    assert path == tmp_path / "sub" / "probe.html"
    assert path.read_bytes() == page.encode("utf-8")
    assert [p.name for p in path.parent.iterdir()] == ["probe.html"]  # no temporary file left
    write_probe_html(str(path), make_report(findings=False), {})  # replaces it
    assert "No tuple is significantly worse" in path.read_text(encoding="utf-8")


def test_input_and_skipped_scenes(page, parsed):
    text = " ".join(parsed.text.split())
    assert "the model saw 224 x 224 crops (margin 0.1 of the target's box), scores read as probabilities" in text
    rows = Page(fragment(page, 'id="skipped-table"')).find("tr")[1:]
    assert [a["data-index"] for a in rows] == ["1000003"]
    assert f"could not place a layout in context 'outdoor' {EVIL}" in text
    assert "<b>1</b><span>scenes skipped (not placed)</span>" in page and 'href="#skipped"' in page
    clean = render_probe_html(make_report(skipped=False), THUMBS)
    assert 'id="skipped"' not in clean and 'href="#skipped"' not in clean and "skipped (not placed)" not in clean
