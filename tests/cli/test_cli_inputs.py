"""``scenegen coverage`` on damaged inputs: a corrupt coverage.json or manifest.json is one
line naming the file and how to repair it (exit status 1), for every format and option
that reads it; a path that is no folder is an input error (2). Never a traceback."""

import copy
import json

import pytest

from scenegen.cli import main
from scenegen.dataset.read import finished_indices
from scenegen.design.coverage import CoverageTracker
from scenegen.errors import CoverageError, ScenegenError

REPAIR = "rerun the 'scenegen generate' (or 'scenegen finish') command that wrote the dataset to rewrite it"
FORMATS = ["text", "json", "md", "html"]


def coverage_cli(capsys, *args) -> tuple[int, list]:
    """Exit status and stderr lines of 'scenegen coverage ARGS'."""
    status = main(["coverage", *map(str, args)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err.splitlines()


def with_key(key, value):
    """A damage: the file's JSON object with ``key`` set to ``value``."""
    return lambda text: json.dumps({**json.loads(text), key: value})


@pytest.mark.render
@pytest.mark.parametrize("fmt", FORMATS)
def test_an_untouched_dataset_reports_in_every_format(dataset_copy, capsys, fmt):
    status, lines = coverage_cli(capsys, dataset_copy, "--format", fmt)
    assert status == 0 and all("error" not in line for line in lines)


COVERAGE_FILES = {
    "empty": (lambda text: "", "it is not valid JSON (Expecting value: line 1 column 1 (char 0))"),
    "truncated": (lambda text: text[: len(text) // 2], "it is not valid JSON ("),
    "an array": (lambda text: "[]", "it is an array, not a JSON object"),
    "levels a number, no version": (lambda text: '{"levels": 3}', "coverage schema_version None is not supported (expected 2)"),
    "levels a number": (with_key("levels", 3), "malformed coverage data: 'levels' is not an object of factor -> list"),
    "n_objects a string": (with_key("n_objects", "x"), "malformed coverage data: 'n_objects' is not an integer"),
    "counts that disagree": (lambda text: json.dumps({**json.loads(text), "n_scenes": json.loads(text)["n_scenes"] + 1}),
                             "coverage data is inconsistent"),
    "not UTF-8": (lambda text: "\udcff", "it is not valid JSON ('utf-8' codec can't decode"),
}


@pytest.mark.render
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", COVERAGE_FILES)
def test_a_damaged_coverage_json_is_named_with_the_repair(dataset_copy, capsys, kind, fmt):
    damage, detail = COVERAGE_FILES[kind]
    path = dataset_copy / "coverage.json"
    path.write_bytes(damage(path.read_text()).encode("utf-8", "surrogateescape"))
    status, lines = coverage_cli(capsys, dataset_copy, "--format", fmt)
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith(f"scenegen coverage: error: {path} is damaged: {detail}")
    assert REPAIR in lines[0]


@pytest.mark.render
def test_a_missing_coverage_json_of_a_finished_dataset_is_damage(dataset_copy, capsys):
    (dataset_copy / "coverage.json").unlink()
    status, lines = coverage_cli(capsys, dataset_copy)
    assert status == 1 and lines == [f"scenegen coverage: error: {dataset_copy / 'coverage.json'} is damaged: it is missing; "
                                     f"{REPAIR}, then check it with 'scenegen verify {dataset_copy}'"]


# the options that read the manifest: the summary shows its split, the others need its config
MANIFEST_READERS = [[], ["--format", "json"], ["--format", "md"], ["--format", "html"], ["--strength", "2"],
                    ["--factors", "category,pose"]]
MANIFESTS = {
    "empty": (lambda text: "", "it is not valid JSON (Expecting value: line 1 column 1 (char 0))"),
    "truncated": (lambda text: text[: len(text) // 2], "it is not valid JSON ("),
    "an object in an array": (lambda text: f"[{text}]", "it is an array, not a JSON object"),
    "no files": (lambda text: json.dumps({"n": 3, "config": "n: 3"}), "it has no 'files'"),
    "n a boolean": (with_key("n", True), "'n' is a boolean, not an integer"),
    "config not YAML": (with_key("config", "a: [\n"), "its 'config' is not valid YAML: "),
    "config a list": (with_key("config", "- 1\n"), "its 'config' is not a YAML mapping"),
    "config of unknown keys": (with_key("config", "nonsense: 1\n"),
                               "its 'config' (written by scenegen 0.1.0) does not load: Key 'nonsense' not in"),
}


@pytest.mark.render
@pytest.mark.parametrize("kind, options", [
    pytest.param(kind, options, id=f"{kind}-{' '.join(options) or 'summary'}")
    for kind in MANIFESTS for options in MANIFEST_READERS
    if options or kind != "config of unknown keys"  # the summary does not load the config
])
def test_a_damaged_manifest_is_named_with_the_repair(dataset_copy, capsys, kind, options):
    damage, detail = MANIFESTS[kind]
    path = dataset_copy / "manifest.json"
    path.write_text(damage(path.read_text()))
    status, lines = coverage_cli(capsys, dataset_copy, *options)
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith(f"scenegen coverage: error: {path} is damaged: {detail}")
    assert REPAIR in lines[0]


@pytest.mark.render
@pytest.mark.parametrize("options", MANIFEST_READERS[1:], ids=" ".join)
def test_reports_that_need_the_config_say_an_unfinished_dataset_is_one(dataset_copy, capsys, options):
    (dataset_copy / "manifest.json").unlink()
    status, lines = coverage_cli(capsys, dataset_copy, *options)
    assert status == 1 and lines == [f"scenegen coverage: error: {str(dataset_copy)!r} is not a finished scenegen dataset: "
                                     f"manifest.json is missing (run 'scenegen generate out={dataset_copy}' to completion first)"]


@pytest.mark.render
def test_the_summary_needs_no_manifest(dataset_copy, capsys):
    (dataset_copy / "manifest.json").unlink()
    assert main(["coverage", str(dataset_copy)]) == 0
    assert "feasible tuples covered" in capsys.readouterr().out


@pytest.mark.parametrize("make, message", [
    (lambda path: None, "dataset folder {path!r} not found"),
    (lambda path: path.write_text("x"), "{path!r} is a file, not a dataset folder"),
])
@pytest.mark.parametrize("fmt", FORMATS)
def test_an_argument_that_is_no_folder_is_an_input_error(tmp_path, capsys, make, message, fmt):
    path = tmp_path / "d"
    make(path)
    assert coverage_cli(capsys, path, "--format", fmt) == (
        2, [f"scenegen coverage: error: {message.format(path=str(path))}"])


@pytest.mark.render
def test_the_exporters_read_the_manifest_checked(dataset_copy):
    (dataset_copy / "manifest.json").write_text("[]")
    with pytest.raises(ScenegenError, match="manifest.json is damaged: it is an array, not a JSON object"):
        finished_indices(dataset_copy)


LEVELS = {"category": ["mug", "ball"], "pose": ["front", "any"], "context": ["room"]}


def _coverage_dict() -> dict:
    tracker = CoverageTracker(LEVELS)
    tracker.add_record({"index": 0, "objects": [{"factors": {"category": "mug", "pose": "front", "context": "room"}}]})
    return tracker.to_dict()


def _changed(change):
    data = copy.deepcopy(_coverage_dict())
    change(data)
    return data


@pytest.mark.parametrize("data, message", [
    ([], "malformed coverage data: list, not an object"),
    (None, "malformed coverage data: NoneType, not an object"),
    ({"levels": 3}, "coverage schema_version None is not supported (expected 2)"),
    (_changed(lambda d: d.pop("factors")), "malformed coverage data: no 'factors'"),
    (_changed(lambda d: d.update(levels=3)), "malformed coverage data: 'levels' is not an object of factor -> list of levels"),
    (_changed(lambda d: d["levels"].update(pose="ab")), "malformed coverage data: 'levels' is not an object of factor"),
    (_changed(lambda d: d["levels"].update(pose=[["a"]])), "malformed coverage data: 'levels' is not an object of factor"),
    (_changed(lambda d: d["levels"].pop("pose")), "malformed coverage data: 'levels' has no levels for factor 'pose'"),
    (_changed(lambda d: d.update(factors=[1])), "malformed coverage data: 'factors' is not a list of factor names"),
    (_changed(lambda d: d.update(combination="category")),
     "malformed coverage data: 'combination' is not a list of factor names"),
    (_changed(lambda d: d.update(forbidden=[["category", "mug"]])),
     "malformed coverage data: 'forbidden' is not a list of objects of factor -> level"),
    (_changed(lambda d: d["signatures"].update(code=None)),
     "malformed coverage data: 'signatures' is not an object of integer lists 'code', 'objects', 'first_scene'"),
    (_changed(lambda d: d["scene_sets"].update(sizes=[1.5])),
     "malformed coverage data: 'scene_sets' is not an object of integer lists 'sizes', 'members', 'scenes'"),
    (_changed(lambda d: d.update(n_scenes=True)), "malformed coverage data: 'n_scenes' is not an integer"),
])
def test_from_dict_names_malformed_input(data, message):
    with pytest.raises(CoverageError) as caught:
        CoverageTracker.from_dict(data)
    assert str(caught.value).startswith(message)
