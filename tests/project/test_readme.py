"""The README's Python example runs as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.render
def test_readme_python_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2, "README lost its python examples"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    assert "files in" in printed
    assert "impossible for ball" in printed and "layouts (10^16." in printed  # 10^16.81 (README: Space size)


def test_readme_quickstart_matches_ci():
    ci = (README.parent / ".ci" / "run").read_text()
    command = "pip install '.[test]' && ruff check . && pytest"
    assert command in README.read_text()
    assert command in ci
