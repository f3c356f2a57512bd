"""``scenegen verify``: tampering (added, unlisted, refused and linked files), damaged
manifests and scene records, and arguments that are not a dataset folder. Every problem
is one line, never a traceback."""

import json
import os
import shutil
from pathlib import Path

import pytest
from tiny_dataset import make_tiny

import scenegen.dataset.verify
from scenegen.cli import main
from scenegen.dataset.verify import verify_dataset

pytestmark = pytest.mark.render


def edit_manifest(root: Path, change) -> None:
    manifest = json.loads((root / "manifest.json").read_text())
    change(manifest)
    (root / "manifest.json").write_text(json.dumps(manifest))


def verify_cli(root, capsys) -> tuple[int, list]:
    """Exit status and stderr lines of 'scenegen verify ROOT'."""
    status = main(["verify", str(root)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return status, err.splitlines()


def test_an_untouched_dataset_verifies(dataset_copy, capsys):
    assert verify_cli(dataset_copy, capsys) == (0, [])


def test_added_files_are_reported_but_not_preview_or_coverage_html(dataset_copy, capsys):
    for name in ("images/000999.png", "extra.txt", "junk/a.bin", "junk/preview.png", "preview.png", "coverage.html"):
        (dataset_copy / name).parent.mkdir(exist_ok=True)
        (dataset_copy / name).write_bytes(b"x")
    assert verify_cli(dataset_copy, capsys) == (1, [
        "scenegen verify: unlisted: extra.txt (not in the manifest)",
        "scenegen verify: unlisted: images/000999.png (not in the manifest)",
        "scenegen verify: unlisted: junk/a.bin (not in the manifest)",
        "scenegen verify: unlisted: junk/preview.png (not in the manifest)",
    ])


def test_a_file_a_record_names_that_is_unlisted_and_missing_is_reported(dataset_copy, capsys):
    edit_manifest(dataset_copy, lambda m: m["files"].pop("depth/000001.png"))
    (dataset_copy / "depth" / "000001.png").unlink()
    assert verify_cli(dataset_copy, capsys) == (1, [
        "scenegen verify: scenes/000001.json names 'depth/000001.png', which the manifest does not list "
        "(and which does not exist)",
    ])


def test_a_file_a_record_names_that_is_unlisted_is_reported(dataset_copy):
    edit_manifest(dataset_copy, lambda m: m["files"].pop("parts/000002.png"))
    assert verify_dataset(dataset_copy) == [
        "unlisted: parts/000002.png (not in the manifest)",
        "scenes/000002.json names 'parts/000002.png', which the manifest does not list",
    ]


@pytest.mark.parametrize("name", ["../../../../etc/passwd", "/etc/shadow", "images/../../outside.txt", "./extra"])
def test_manifest_paths_that_leave_the_folder_are_refused_unread(dataset_copy, monkeypatch, name):
    (dataset_copy.parent / "outside.txt").write_text("secret")
    read, sha256_file = [], scenegen.dataset.verify.sha256_file
    monkeypatch.setattr(scenegen.dataset.verify, "sha256_file", lambda path: read.append(path) or sha256_file(path))
    edit_manifest(dataset_copy, lambda m: m["files"].__setitem__(name, "0" * 64))
    problems = verify_dataset(dataset_copy)
    assert problems == [f"refused: {name!r}, not a path inside the dataset folder (not read)"]
    assert all(os.path.realpath(path).startswith(os.path.realpath(dataset_copy) + os.sep) for path in read)


def test_links_to_outside_the_folder_are_refused_unread(dataset_copy, tmp_path):
    tmp_path = Path(os.path.realpath(tmp_path))  # as verify names link targets
    secret = tmp_path / "secret.png"
    shutil.copy(dataset_copy / "images" / "000000.png", secret)  # the listed bytes: the hash would match
    (dataset_copy / "images" / "000000.png").unlink()
    (dataset_copy / "images" / "000000.png").symlink_to(secret)
    (dataset_copy / "link.txt").symlink_to(secret)
    (dataset_copy / "etc").symlink_to(tmp_path)
    (dataset_copy / "inside").symlink_to(dataset_copy / "coco.json")
    assert verify_dataset(dataset_copy) == [
        f"refused: 'images/000000.png', a link to {secret}, outside the dataset folder (not read)",
        f"unlisted: etc (not in the manifest; a link to {tmp_path}, outside the dataset folder)",
        "unlisted: inside (not in the manifest)",
        f"unlisted: link.txt (not in the manifest; a link to {secret}, outside the dataset folder)",
    ]


def test_a_linked_scene_record_is_not_read(dataset_copy, tmp_path):
    outside = Path(os.path.realpath(tmp_path)) / "record.json"
    outside.write_text("not json")
    (dataset_copy / "scenes" / "000001.json").unlink()
    (dataset_copy / "scenes" / "000001.json").symlink_to(outside)
    assert verify_dataset(dataset_copy) == [
        f"refused: 'scenes/000001.json', a link to {outside}, outside the dataset folder (not read)"]


def test_changed_and_missing_files_still_reported(dataset_copy):
    (dataset_copy / "images" / "000001.png").write_bytes(b"not the image")
    (dataset_copy / "coco.json").unlink()
    assert verify_dataset(dataset_copy) == ["missing: coco.json", "changed: images/000001.png (sha256 differs from the manifest)"]


def _missing_keys(manifest):
    del manifest["files"], manifest["config"]


MANIFESTS = {
    "empty": (lambda text: "", "it is not valid JSON (Expecting value: line 1 column 1 (char 0))"),
    "truncated": (lambda text: text[: len(text) // 2], "it is not valid JSON ("),
    "not an object": (lambda text: "[]", "it is an array, not a JSON object"),
    "missing keys": (lambda text: json.dumps({"n": 3}), "it has no 'files'"),
    "n a string": (lambda text: json.dumps({**json.loads(text), "n": "3"}), "'n' is a string, not an integer"),
    "files an array": (lambda text: json.dumps({**json.loads(text), "files": []}), "'files' is an array, not an object"),
    "a sha256 a number": (lambda text: json.dumps({**json.loads(text), "files": {"coco.json": 3}}),
                          "'files' gives 'coco.json' an integer, not a sha256"),
    "skipped without index": (lambda text: json.dumps({**json.loads(text), "skipped": [{}]}),
                              "'skipped' is not a list of objects with an integer 'index'"),
    "config not YAML": (lambda text: json.dumps({**json.loads(text), "config": "a: ["}),
                        "its 'config' is not valid YAML: "),
    "config not a mapping": (lambda text: json.dumps({**json.loads(text), "config": "3"}),
                             "its 'config' is not a YAML mapping"),
}


@pytest.mark.parametrize("kind", MANIFESTS)
def test_a_damaged_manifest_is_one_line_saying_how_to_repair(dataset_copy, capsys, kind):
    damage, detail = MANIFESTS[kind]
    path = dataset_copy / "manifest.json"
    path.write_text(damage(path.read_text()))
    status, lines = verify_cli(dataset_copy, capsys)
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith(f"scenegen verify: {path} is damaged: {detail}")
    assert "rerun the 'scenegen generate' (or 'scenegen finish') command" in lines[0]


RECORDS = {
    "truncated": (lambda text: text[:100], "it is not valid JSON ("),
    "not an object": (lambda text: "[1]", "it is an array, not a JSON object"),
    "files null": (lambda text: json.dumps({**json.loads(text), "files": None}), "'files' is null, not an object"),
    "another index": (lambda text: json.dumps({**json.loads(text), "index": 2}), "'index' is 2"),
    "a file a number": (lambda text: json.dumps({**json.loads(text), "files": {"rgb": 3}}),
                        "'files' holds an integer, not a path"),
}


@pytest.mark.parametrize("kind", RECORDS)
def test_a_damaged_scene_record_is_named(dataset_copy, capsys, kind):
    damage, detail = RECORDS[kind]
    path = dataset_copy / "scenes" / "000001.json"
    path.write_text(damage(path.read_text()))
    status, lines = verify_cli(dataset_copy, capsys)
    assert status == 1
    assert lines[0] == "scenegen verify: changed: scenes/000001.json (sha256 differs from the manifest)"
    assert lines[1].startswith(f"scenegen verify: {path} is damaged: {detail}")
    assert lines[1].endswith("; delete it and .scenegen/shards/000000-000003.json, then rerun the 'scenegen generate' "
                             "command that wrote the dataset to write the scene again")
    assert len(lines) == 2


def test_the_repair_of_a_damaged_record_writes_it_again(dataset_copy, capsys):
    """What verify says to do for a damaged scene record works."""
    record = dataset_copy / "scenes" / "000001.json"
    record.write_text("[")
    assert "; delete it and .scenegen/shards/000000-000003.json, then rerun" in verify_dataset(dataset_copy)[1]
    record.unlink()
    (dataset_copy / ".scenegen" / "shards" / "000000-000003.json").unlink()
    make_tiny(dataset_copy)
    assert verify_cli(dataset_copy, capsys) == (0, [])


def test_an_unfinished_dataset_says_how_far_it_got(dataset_copy, capsys):
    (dataset_copy / "manifest.json").unlink()
    status, lines = verify_cli(dataset_copy, capsys)
    assert status == 1 and lines[0].startswith("scenegen verify: incomplete: no manifest.json yet; 1 shard(s) complete")


@pytest.mark.parametrize("run_record, detail", [
    ("", ", and {path} is damaged: it is not valid JSON (Expecting value: line 1 column 1 (char 0))"),
    ("[]", ", and {path} is damaged: it is an array, not a JSON object"),
    ('{"config": 3}', "; 1 shard(s) complete (3 of the n=? scenes asked for); run the same 'scenegen generate'"),
])
def test_an_unfinished_dataset_with_a_damaged_run_record(dataset_copy, capsys, run_record, detail):
    (dataset_copy / "manifest.json").unlink()
    path = dataset_copy / ".scenegen" / "run.json"
    path.write_text(run_record)
    status, lines = verify_cli(dataset_copy, capsys)
    assert status == 1 and len(lines) == 1
    assert lines[0].startswith(f"scenegen verify: incomplete: no manifest.json yet{detail.format(path=path)}")


def test_a_folder_that_is_not_a_dataset(tmp_path, capsys):
    assert verify_cli(tmp_path, capsys) == (1, [
        f"scenegen verify: {str(tmp_path)!r} is not a scenegen dataset: it has neither manifest.json "
        "nor .scenegen/run.json"])


@pytest.mark.parametrize("make, message", [
    (lambda path: None, "dataset folder {path!r} not found"),
    (lambda path: path.write_text("x"), "{path!r} is a file, not a dataset folder"),
])
def test_an_argument_that_is_no_folder_is_an_input_error(tmp_path, capsys, make, message):
    path = tmp_path / "d"
    make(path)
    assert verify_cli(path, capsys) == (2, [f"scenegen verify: error: {message.format(path=str(path))}"])
