"""Start-up: the wall time of short commands, whole processes, and what importing costs.

Runs each command as its own process (``python -m scenegen ...`` from an empty folder,
so the current directory shadows nothing) and prints the best of ``--rounds`` wall
times, with the CPU time (user + system) of that run: on a shared machine the wall time
moves with the other processes' load, the CPU time much less.

  * ``scenegen generate out=DIR n=1`` (DIR removed before each run, the same path every
    time: the run writes one scene, as a first run does);
  * ``scenegen sample``, ``scenegen space``;
  * ``python -c "import scenegen"`` and ``python -c "import scenegen.cli"``.

One warm-up run of each comes first (it fills scenegen's cache folder, as any earlier
run on the machine would); ``--cold`` gives every run an empty cache folder instead
(the cost of a config, dictionary or source never seen). Then ``python -X importtime``
of ``import scenegen``: the modules that cost most (cumulative, nested ones included)
and the heavy optional modules it loads (none, unless one regressed; see
tests/project/test_startup.py).

Note: without a ``__pycache__`` (``PYTHONDONTWRITEBYTECODE`` set and none written before),
Python compiles scenegen's modules from source on every start, about 0.2 s of each; the
script says which it measured. ``pip install .`` compiles them when it installs.

    python benchmarks/bench_startup.py
    python benchmarks/bench_startup.py --rounds 5 --top 30
    python benchmarks/bench_startup.py --tree /tmp/before   # another checkout (PYTHONPATH)
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

# what `import scenegen` should not load (imported where used; see scenegen/lazy.py)
HEAVY = ("trimesh", "scipy", "pyrender", "OpenGL", "fpng", "jinja2", "networkx", "dask", "distributed",
         "hydra", "mitsuba", "pybullet", "torch")


def commands(work: Path) -> Dict[str, List[str]]:
    python = sys.executable
    return {
        "scenegen generate n=1": [python, "-m", "scenegen", "generate", f"out={work / 'out'}", "n=1", "progress=false"],
        "scenegen sample": [python, "-m", "scenegen", "sample"],
        "scenegen space": [python, "-m", "scenegen", "space"],
        'python -c "import scenegen"': [python, "-c", "import scenegen"],
        'python -c "import scenegen.cli"': [python, "-c", "import scenegen.cli"],
    }


def run(command: List[str], work: Path, env: dict) -> Tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run of ``command``."""
    shutil.rmtree(work / "out", ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=work / "cwd", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def environment(tree: Optional[str], cache: Optional[Path]) -> dict:
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = os.pathsep.join([str(Path(tree).resolve()), *filter(None, [env.get("PYTHONPATH")])])
    if cache is not None:
        env["SCENEGEN_CACHE"] = str(cache)
    return env


def import_times(env: dict, work: Path, top: int) -> Tuple[List[Tuple[str, float, float]], List[str]]:
    """(the ``top`` modules by cumulative import time: (name, cumulative ms, self ms)), the
    heavy modules ``import scenegen`` loads)."""
    probe = f"import sys, scenegen; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", probe], cwd=work / "cwd", env=env,
                          capture_output=True, text=True, check=True)
    rows = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match:
            rows.append((match.group(4), int(match.group(2)) / 1000, int(match.group(1)) / 1000, len(match.group(3))))
    rows.sort(key=lambda row: -row[1])
    return [(name, cumulative, own) for name, cumulative, own, _ in rows[:top]], list(filter(None, done.stdout.strip().split(",")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs of each command; the best is printed")
    parser.add_argument("--top", type=int, default=25, help="modules listed by import time")
    parser.add_argument("--tree", default=None, help="a scenegen checkout to measure instead (put on PYTHONPATH)")
    parser.add_argument("--cold", action="store_true", help="an empty scenegen cache folder for every run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_startup_") as folder:
        work = Path(folder)
        (work / "cwd").mkdir()
        warm_cache = None if not args.cold else work / "cache"
        env = environment(args.tree, warm_cache)
        where = subprocess.run([sys.executable, "-c", "import scenegen; print(scenegen.__file__)"], cwd=work / "cwd",
                               env=env, capture_output=True, text=True, check=True).stdout.strip()
        print(f"scenegen from {where}; python {sys.version.split()[0]}; {os.cpu_count()} cores, load average "
              f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        compiled = any(Path(where).parent.glob("__pycache__/*.pyc"))
        print("scenegen's modules: " + ("compiled (__pycache__ is read, whatever PYTHONDONTWRITEBYTECODE says)"
                                        if compiled else "compiled from source on every start (no __pycache__"
                                        + (": PYTHONDONTWRITEBYTECODE is set)" if os.environ.get("PYTHONDONTWRITEBYTECODE")
                                           else " yet)")))
        print(f"{'command':<34} {'best wall s':>11} {'its CPU s':>10}   all wall s ({'cold cache' if args.cold else 'warm cache'})")
        for name, command in commands(work).items():
            if not args.cold:
                run(command, work, env)  # warm-up: the cache folder holds what any earlier run left
            times = []
            for _ in range(args.rounds):
                if args.cold:
                    shutil.rmtree(work / "cache", ignore_errors=True)
                times.append(run(command, work, env))
            wall, cpu = min(times)
            print(f"{name:<34} {wall:>11.2f} {cpu:>10.2f}   {' '.join(f'{w:.2f}' for w, _ in times)}", flush=True)

        modules, heavy = import_times(env, work, args.top)
        print(f"\npython -X importtime -c 'import scenegen': top {args.top} by cumulative ms (self ms)")
        for module, cumulative, own in modules:
            print(f"  {cumulative:8.1f} {own:8.1f}  {module}")
        print(f"heavy modules loaded by 'import scenegen': {', '.join(heavy) if heavy else 'none'}")


if __name__ == "__main__":
    main()
