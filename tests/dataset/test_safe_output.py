"""Users' data is safe: scenegen writes only into a new or empty folder or its own
dataset of the same config, deletes only files it wrote, checks everything that can
refuse a run before it changes the folder, ends a full disk with a message from which
the same command resumes, and starts a huge run at once."""

import errno
import hashlib
import os
import shutil
from pathlib import Path

import pytest

import scenegen.dataset.pipeline as pipeline
from scenegen import load_config
from scenegen.cli import main
from scenegen.dataset.generate import generate
from scenegen.dataset.verify import verify_dataset

SMALL = ["n=3", "width=48", "height=32", "progress=false"]


def tree(root: Path) -> dict:
    """Every file below ``root`` (the work records included) -> sha256."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def dataset_files(root: Path) -> dict:
    return {name: digest for name, digest in tree(root).items() if not name.startswith(".scenegen/")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "d"
    generate(load_config([f"out={out}", *SMALL]), progress=False)
    return dataset_files(out)


def test_a_folder_holding_other_files_is_refused_and_left_as_it_was(tmp_path, capsys):
    """The torture run's case: a user's `.session.tmp` and `scenes/000005.json` were
    deleted by the clean-up of a run into their folder."""
    user = tmp_path / "u"
    (user / "deep").mkdir(parents=True)
    (user / "scenes").mkdir()
    (user / "deep" / ".session.tmp").write_text("x")
    (user / "scenes" / "000005.json").write_text("{}")
    before = tree(user)
    assert main(["generate", f"out={user}", *SMALL]) == 2
    err = capsys.readouterr().err
    assert f"'{user}' is not empty (deep, scenes) and holds no scenegen dataset" in err
    assert "never deletes or overwrites files it did not write; choose another out=" in err
    assert tree(user) == before


@pytest.mark.parametrize("out", ["", " "])
def test_an_empty_out_is_an_error(tmp_path, capsys, monkeypatch, out):
    monkeypatch.chdir(tmp_path)
    assert main(["generate", f"out={out}", *SMALL]) == 2
    assert "out is empty: give the dataset folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_empty_folder_and_a_new_one_are_taken(tmp_path, reference):
    empty = tmp_path / "empty"
    empty.mkdir()
    generate(load_config([f"out={empty}", *SMALL]), progress=False)
    assert dataset_files(empty) == reference
    generate(load_config([f"out={tmp_path / 'new' / 'deeper'}", *SMALL]), progress=False)
    assert dataset_files(tmp_path / "new" / "deeper") == reference


def test_only_scenegen_temporary_files_in_its_own_folders_are_removed(tmp_path, reference):
    out = tmp_path / "d"
    generate(load_config([f"out={out}", *SMALL]), progress=False)
    ours = [out / "images" / ".000001.png.k3x_9qzt.tmp", out / ".coco.json.a1b2c3d4.tmp"]
    theirs = [out / "notes" / ".000001.png.k3x_9qzt.tmp", out / "images" / ".session.tmp"]
    for path in ours + theirs:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"torn")
    (out / "manifest.json").unlink()  # an interrupted run: the same command resumes it
    generate(load_config([f"out={out}", *SMALL]), progress=False)
    assert not any(path.exists() for path in ours)
    assert all(path.read_bytes() == b"torn" for path in theirs)


@pytest.mark.parametrize("overrides, message", [
    (["directive={category: ball, pose: back}"], "directive pose=back is impossible for ball"),
    (["split.held_out=[{category: ball, pose: any}]"], "split.held_out"),
])
def test_a_refused_config_creates_nothing(tmp_path, capsys, overrides, message):
    out = tmp_path / "new"
    assert main(["generate", f"out={out}", *SMALL, *overrides]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def _fail_writes_to(monkeypatch, name: str) -> None:
    """Every atomic write whose final name is ``name`` fails as on a full disk."""
    real = os.replace

    def replace(src, dst):
        if Path(dst).name == name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("name, kept", [
    ("run.json", "nothing was changed"),  # the first write of a run
    ("coco.json", "the scenes already written are kept"),  # while finishing
    ("manifest.json", "the scenes already written are kept"),  # the last write of all
])
def test_a_full_disk_ends_in_one_message_and_the_rerun_gives_the_same_bytes(tmp_path, monkeypatch, capsys,
                                                                           reference, name, kept):
    out = tmp_path / "d"
    _fail_writes_to(monkeypatch, name)
    assert main(["generate", f"out={out}", *SMALL]) == 1
    err = capsys.readouterr().err
    assert f"could not write into '{out}': No space left on device" in err and name in err
    assert f"{kept}: free space or fix the folder, then run the same command again to resume" in err
    assert "Traceback" not in err and not (out / "manifest.json").exists()
    monkeypatch.undo()
    assert main(["generate", f"out={out}", *SMALL]) == 0
    assert dataset_files(out) == reference and verify_dataset(out) == []


def test_a_huge_n_starts_rendering_after_looking_at_one_shard(tmp_path, monkeypatch):
    """n = 10^8: one million shards; the first scene is rendered after one shard was
    looked at, not after every scene's files were looked for."""
    looked = []
    real = pipeline.missing_scenes
    monkeypatch.setattr(pipeline, "missing_scenes", lambda out, shard: looked.append(shard) or real(out, shard))

    class FirstScene(Exception):
        pass

    def stop(index):
        raise FirstScene(index)

    with pytest.raises(FirstScene):
        generate(load_config([f"out={tmp_path / 'd'}", "n=100000000", "width=32", "height=32", "progress=false"]),
                 on_scene=stop)
    assert looked == [range(0, 100)]


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """A run killed after its scenes and shard records, before finishing (read only)."""
    out = tmp_path_factory.mktemp("interrupted") / "d"
    generate(load_config([f"out={out}", *SMALL]), progress=False)
    (out / "manifest.json").unlink()
    return out


@pytest.mark.parametrize("content", [b'{"files": ', b"[]", b'{"scenes": [0, 3]}'],
                         ids=["truncated", "not-an-object", "missing-keys"])
def test_a_damaged_shard_record_is_made_again(tmp_path, interrupted, reference, content):
    out = tmp_path / "d"
    shutil.copytree(interrupted, out)
    (marker,) = (out / ".scenegen" / "shards").glob("*.json")
    marker.write_bytes(content)
    assert main(["generate", f"out={out}", *SMALL]) == 0
    assert dataset_files(out) == reference and verify_dataset(out) == []


def test_a_damaged_run_record_is_a_message_naming_it(tmp_path, interrupted, capsys):
    out = tmp_path / "d"
    shutil.copytree(interrupted, out)
    (out / ".scenegen" / "run.json").write_text('{"config": ')
    before = tree(out)
    assert main(["generate", f"out={out}", *SMALL]) == 1
    err = capsys.readouterr().err
    assert f"{out / '.scenegen' / 'run.json'} is damaged" in err and "generate into another out=" in err
    assert "Traceback" not in err and tree(out) == before


@pytest.mark.parametrize("content", ["{", "[1]"], ids=["not-json", "not-an-object"])
def test_a_damaged_scene_record_is_named_and_written_again_by_the_advice(tmp_path, interrupted, capsys, reference,
                                                                        content):
    out = tmp_path / "d"
    shutil.copytree(interrupted, out)
    record = out / "scenes" / "000001.json"
    record.write_text(content)
    (marker,) = (out / ".scenegen" / "shards").glob("*.json")
    assert main(["generate", f"out={out}", *SMALL]) == 1
    err = capsys.readouterr().err
    assert f"{record} is damaged: it " in err and "Traceback" not in err
    assert f"delete it and {marker} and run the same command again: the scene is written again" in err
    record.unlink()
    marker.unlink()
    assert main(["generate", f"out={out}", *SMALL]) == 0
    assert dataset_files(out) == reference


def test_any_command_ends_a_full_disk_in_one_line(tmp_path, monkeypatch, capsys):
    """A write no command turns into a message of its own (here the contact sheet of
    `scenegen preview`) still ends in one line and exit status 1."""
    out = tmp_path / "d"
    generate(load_config([f"out={out}", *SMALL]), progress=False)
    _fail_writes_to(monkeypatch, "sheet.png")
    assert main(["preview", str(out), "--out", str(tmp_path / "sheet.png")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("scenegen preview: error: No space left on device") and f"{tmp_path / 'sheet.png'}" in err
    assert len(err.splitlines()) == 1 and not (tmp_path / "sheet.png").exists()
