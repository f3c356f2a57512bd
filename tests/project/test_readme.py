"""The README's Python example runs as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
# a block holding the key prints the value (the others are checked by their own asserts)
PRINTS = {'"files in"': "files in", '"ball", "pose": "back"': "impossible for ball",
          "describe_space": "layouts (10^16."}  # 10^16.81 (README: Space size)


def test_readme_has_its_python_examples():
    assert len(BLOCKS) >= 2, "README lost its python examples"
    for marker in PRINTS:
        assert any(marker in block for block in BLOCKS), f"no README block holds {marker}"


@pytest.mark.render
@pytest.mark.parametrize("number", range(len(BLOCKS)), ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_readme_python_example_runs(number, capsys):
    """Each block runs as written, in a fresh namespace, on a worker of its own (the
    blocks take half a minute together), and prints what it says it prints."""
    block = BLOCKS[number]
    exec(compile(block, f"README.md (python block {number + 1})", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    for marker, text in PRINTS.items():
        if marker in block:
            assert text in printed


def test_readme_quickstart_matches_ci():
    ci = (README.parent / ".ci" / "run").read_text()
    command = "pip install '.[test]' && ruff check . && pytest"
    assert command in README.read_text()
    assert command in ci
