"""The README's Python example runs as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.render
def test_readme_python_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python example"
    exec(compile(blocks[0], "README.md", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    assert "files in" in printed


def test_readme_quickstart_matches_ci():
    ci = (README.parent / ".ci" / "run").read_text()
    assert "pip install '.[test]' && pytest" in README.read_text()
    assert "pip install '.[test]' && pytest" in ci
