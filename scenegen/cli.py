"""The ``scenegen`` command: a thin layer over the Python API.

    scenegen generate [KEY=VALUE ...]        write (or resume) a dataset (see README for the keys);
                                             shard=I num_shards=K writes one shard of a job array
    scenegen finish [KEY=VALUE ...]          build coco.json, coverage.json, manifest.json from the shards
    scenegen verify DIR                      check completeness and every file's sha256
    scenegen sample index=I [KEY=VALUE ...]  print scene I as JSON, without rendering;
                                             directive={category:chair,pose:back} requests levels
    scenegen space [KEY=VALUE ...]           print the exact number of layouts and the factor levels
    scenegen coverage DIR [--strength T] [--format text|json|md|html]
                                             print (or, html, write) the coverage of a dataset
    scenegen probe model=MODULE:FUNCTION [KEY=VALUE ...]
                                             search the scenes for where a model fails; report
                                             accuracy per level and t-tuple (probe.* keys)
    scenegen preview DIR [--out FILE] [--count N]
                                             contact sheet of a dataset (default DIR/preview.png)
    scenegen preview [KEY=VALUE ...] --out FILE
                                             contact sheet of a config, rendered in memory

Overrides are Hydra override strings (``n=100``, ``width=512``,
``contexts.room.weight=2``). Errors print one line naming the problem and exit with
status 2 (bad input) or 1 (a failure while running); Ctrl-C stops a command with one
line and status 130, SIGTERM likewise with status 143.
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, NoReturn, Optional, Sequence

from ._version import __version__
from .errors import EXIT_FAULT, ConfigError, ScenegenError

EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130, as a shell reports a Ctrl-C
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143, as a shell reports a SIGTERM


class _KeysHelp(argparse.Action):
    """``-h``: the usual help, then every config key with its default and one line (read
    from the schema, so it is never out of date)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from .config.keys import format_keys  # only for help: the config stack is not needed to parse

        try:
            parser.print_help()
            print("\nconfig keys (KEY=VALUE; a <name> is an entry of a mapping, [i] an item of a list):")
            print(format_keys(), flush=True)
        except BrokenPipeError:  # the reader went away (`scenegen generate -h | head`)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scenegen", description="Procedural 3D scene synthesizer for combinatorial datasets."
    )
    parser.add_argument("--version", action="version", version=f"scenegen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    generate = commands.add_parser("generate", help="generate a dataset", add_help=False)
    generate.add_argument("-h", "--help", action=_KeysHelp, help="show this help and every config key, then exit")
    generate.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. out=/tmp/d n=20")

    finish = commands.add_parser("finish", help="finish a dataset whose shards were generated separately (shard=I)")
    finish.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="the overrides the shards were generated with")

    verify = commands.add_parser("verify", help="check that a dataset is complete and every file matches its sha256")
    verify.add_argument("dataset", metavar="DIR", help="dataset folder")

    sample = commands.add_parser("sample", help="print one sampled scene as JSON (no rendering)")
    sample.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="index=I and config overrides")

    space = commands.add_parser("space", help="print the exact size of the layout space and the factor levels")
    space.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides")
    space.add_argument("--json", action="store_true", help="print JSON instead of text")

    coverage = commands.add_parser("coverage", help="print which factor combinations a dataset covers")
    coverage.add_argument("dataset", metavar="DIR", help="dataset folder written by 'scenegen generate'")
    coverage.add_argument(
        "--strength", type=int, default=None, metavar="T",
        help="report t-way coverage of the design factors (default 2 for json, md, html); without it "
        "and with --format text: the summary table of coverage.json",
    )
    coverage.add_argument("--factors", default=None,
                          help="comma-separated factors of the t-way report (default: the dataset's design_factors)")
    coverage.add_argument("--min-count", type=int, default=1, metavar="K", help="a tuple counts once K objects (or scenes) show it")
    coverage.add_argument("--unit", choices=("objects", "scenes"), default="objects", help="count objects or scenes")
    coverage.add_argument("--format", choices=("text", "json", "md", "html"), default="text",
                          help="output format; html writes one self-contained file (see --out)")
    coverage.add_argument("--out", default=None, metavar="FILE", help="HTML file to write (default DIR/coverage.html)")

    probe = commands.add_parser(
        "probe", help="find the factor combinations where a vision model fails",
        description=(
            "Render directed scenes within a budget (probe.budget), show them to the model and report "
            "its accuracy per factor level and per t-tuple, worst first, with confidence intervals. "
            "model=package.module:function (or file.py:function) names a callable taking (N, H, W, 3) "
            "uint8 images and returning category names or ids, (N, C) class scores, or detections. "
            "Keys: probe.task=classification|detection, probe.strategy=adaptive|covering|random, "
            "probe.budget, probe.factors, probe.strength, probe.out (see README)."
        ),
    )
    probe.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                       help="model=package.module:function, probe.* keys and config overrides")

    preview = commands.add_parser(
        "preview",
        help="write a contact sheet PNG (image + labels, depth, parts per scene)",
        description=(
            "Write a contact sheet: per scene the image with instance outlines, 2D boxes and "
            "'category visible%' labels, the depth (near = bright) and the part image. "
            "'scenegen preview DIR' shows the first N scenes of a dataset folder and writes "
            "DIR/preview.png unless --out is given. 'scenegen preview [KEY=VALUE ...] --out FILE' "
            "renders scenes 0..N-1 of the config with those overrides in memory and writes only "
            "FILE. An argument containing '=' is an override, unless it names an existing folder; "
            "any other argument is the dataset folder."
        ),
    )
    preview.add_argument("inputs", nargs="*", metavar="DIR | KEY=VALUE",
                         help="a dataset folder, or config overrides (e.g. width=256 seed=3)")
    preview.add_argument("--out", metavar="FILE", help="PNG to write (default DIR/preview.png; required without DIR)")
    preview.add_argument("--count", metavar="N", default="16", help="number of scenes (default 16)")
    preview.add_argument("--columns", metavar="C", default="2", help="scenes per row (default 2)")
    return parser


def _pop_index(overrides: Sequence[str]) -> tuple[int, List[str]]:
    index, rest = 0, []
    for item in overrides:
        if item.startswith("index="):
            index = _integer("index", item.split("=", 1)[1], minimum=0)
        else:
            rest.append(item)
    return index, rest


def _cmd_generate(args) -> int:
    from .config.schema import shard_count
    from .dataset.generate import generate
    from .world.compile import load_config

    cfg = load_config(args.overrides)
    _print_libraries(cfg)
    stats: dict = {}
    manifest = generate(cfg, stats=stats)
    peaks = sorted(round(w["peak_mib"]) for w in stats.get("workers", {}).values())
    memory = f"; peak memory per worker {', '.join(f'{p} MiB' for p in peaks)}" if peaks else ""
    if manifest is None:
        print(f"wrote shard {cfg.shard} of {shard_count(cfg)} to {cfg.out}{memory}; once every shard is written, "
              f"run 'scenegen finish' with the same overrides (without shard=)", file=sys.stderr)
        return 0
    print(f"wrote {manifest.scenes_written} scenes and {len(manifest.files)} files to {cfg.out}{memory}",
          file=sys.stderr)
    _print_rejections(stats.get("rejections", {}))
    _print_skipped(manifest)
    _print_design(manifest)
    _print_licenses(manifest)
    return 0


def _print_rejections(rejections: dict) -> None:
    """One line: the layouts drawn again while writing, by reason, when a reason a user
    can act on is among them (a pile that did not settle)."""
    if rejections.get("pile did not settle"):
        reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(rejections.items()))
        print(f"layouts drawn again (bounded by placement.attempts_per_scene): {reasons}", file=sys.stderr)


def _cmd_finish(args) -> int:
    from .dataset.generate import finish_dataset
    from .world.compile import load_config

    cfg = load_config(args.overrides)
    manifest = finish_dataset(cfg)
    print(f"finished {cfg.out}: {manifest.scenes_written} scenes and {len(manifest.files)} files", file=sys.stderr)
    _print_skipped(manifest)
    _print_design(manifest)
    return 0


def _print_libraries(cfg) -> None:
    """One line per asset library of ``cfg``: its entries, skipped and unmapped files."""
    from .world.compile import World

    for report in World.of(cfg).dictionary.library_reports:
        print(report.summary(), file=sys.stderr)


def _print_licenses(manifest) -> None:
    """Say how many library assets the dataset used, and warn of non-commercial ones."""
    assets = manifest.get("assets") or {}
    if not assets:
        return
    restricted = sorted(name for name, asset in assets.items() if asset.get("non_commercial"))
    print(f"used {len(assets)} library assets; licences and attributions in manifest.json 'assets'", file=sys.stderr)
    if restricted:
        print(f"NOTE: {len(restricted)} of them are under non-commercial licences (e.g. {restricted[0]}): "
              f"this dataset may be used for non-commercial purposes only", file=sys.stderr)


def _print_skipped(manifest, shown: int = 5) -> None:
    """One line per scene of ``manifest`` (a :class:`scenegen.dataset.manifest.Manifest`)
    that could not be placed (the first ``shown``), to stderr."""
    from .dataset.layout import MANIFEST

    skipped = manifest.skipped
    if not skipped:
        return
    print(f"skipped {len(skipped)} of {manifest.n} scenes that could not be placed within the sampler's bounds "
          f"(listed in {MANIFEST} 'skipped'):", file=sys.stderr)
    for skip in skipped[:shown]:
        wanted = ", ".join(f"{k}: {v}" for k, v in sorted(skip["directive"].items())) or "no directive"
        print(f"  scene {skip['index']}: {{{wanted}}} in context {skip['context']!r}", file=sys.stderr)
    if len(skipped) > shown:
        print(f"  ... and {len(skipped) - shown} more", file=sys.stderr)


def _cmd_verify(args) -> int:
    from .dataset.read import require_folder
    from .dataset.verify import file_count, verify_dataset

    require_folder(args.dataset)  # no folder at all: the argument is wrong (exit status 2)
    problems = verify_dataset(args.dataset)
    if problems:
        for line in problems[:50]:
            print(f"scenegen verify: {line}", file=sys.stderr)
        if len(problems) > 50:
            print(f"scenegen verify: ... and {len(problems) - 50} more problems", file=sys.stderr)
        return EXIT_FAULT
    print(f"{args.dataset}: complete, {file_count(args.dataset)} files match the manifest's sha256")
    return 0


def _print_design(manifest) -> None:
    """The design of ``manifest`` (a :class:`scenegen.dataset.manifest.Manifest`) and the
    coverage it reached, when it has one, to stderr."""
    design = manifest.design
    if design and design["strategy"] == "fill":
        print(
            f"fill: added {design['scenes_added']} scenes in {design['rounds']} round(s) to the {design['scenes_before']}; "
            f"{design['strength']}-way coverage of {', '.join(design['factors'])}: {design['before']['covered']} -> "
            f"{design['covered']} of {design['tuples']} ({design['covered'] / max(design['tuples'], 1):.1%})",
            file=sys.stderr,
        )
    elif design:
        print(
            f"{design['strategy']} design of strength {design['strength']} over {', '.join(design['factors'])}: "
            f"{len(design['rows'])} scenes; labels cover {design['covered']} of {design['tuples']} "
            f"{design['strength']}-tuples ({design['covered'] / max(design['tuples'], 1):.1%})",
            file=sys.stderr,
        )


def _cmd_sample(args) -> int:
    from .world.compile import load_config
    from .world.sampler import Sampler

    index, overrides = _pop_index(args.overrides)
    scene = Sampler(load_config(overrides)).sample(index)
    print(scene.to_json())
    return 0


def _cmd_space(args) -> int:
    from .fileio import dumps_json
    from .world.compile import load_config
    from .world.space import describe_space, format_space

    space = describe_space(load_config(args.overrides))
    print(dumps_json(space) if args.json else format_space(space))
    return 0


def _cmd_coverage(args) -> int:
    from .reports.coverage import coverage_report

    report: dict = {}
    result = coverage_report(args.dataset, args.strength, args.factors or None, args.min_count, args.unit,
                             args.format, args.out or None, details=report)
    if args.format == "html":
        print(f"wrote {result}: {report['covered']} of {report['tuples']} {report['strength']}-tuples covered "
              f"({report['coverage']:.1%})", file=sys.stderr)
        return 0
    print(result)
    return 0


def _cmd_probe(args) -> int:
    from .probe import run_probe
    from .probe.report import REPORT_HTML, REPORT_JSON, TRIALS
    from .world.compile import load_config

    overrides = [f"probe.{item}" if item.startswith("model=") else item for item in args.overrides]
    cfg = load_config(overrides)
    result = run_probe(cfg)
    print(result.summary())
    print(f"wrote {REPORT_JSON}, {REPORT_HTML}, {TRIALS} and {len(result.thumbnails)} failure thumbnails "
          f"to {result.out}", file=sys.stderr)
    return 0


def _integer(name: str, value: str, minimum: int) -> int:
    """``value`` as an integer >= ``minimum`` (0 or 1), else a ConfigError naming ``name``."""
    kind = "non-negative" if minimum == 0 else "positive"
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a {kind} integer, got {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be a {kind} integer, got {number}")
    return number


def _positive(name: str, value: str) -> int:
    return _integer(name, value, minimum=1)


def _cmd_preview(args) -> int:
    from .reports.preview import preview_config, preview_dataset
    from .world.compile import load_config

    count = _positive("--count", args.count)
    columns = _positive("--columns", args.columns)
    folders = [item for item in args.inputs if "=" not in item or Path(item).is_dir()]
    overrides = [item for item in args.inputs if item not in folders]
    if len(folders) > 1:
        raise ConfigError(f"give one dataset folder, got {len(folders)}: {', '.join(map(repr, folders))}")
    if folders and overrides:
        raise ConfigError(f"overrides ({', '.join(overrides)}) apply to a config preview, not to a dataset "
                          f"folder ({folders[0]!r})")
    if folders:
        path = preview_dataset(folders[0], args.out, count=count, columns=columns)
    elif args.out is None:
        raise ConfigError("no dataset folder given: a config preview needs --out FILE")
    else:
        path = preview_config(load_config(overrides), args.out, count=count, columns=columns)
    print(f"wrote {path}", file=sys.stderr)
    return 0


_COMMANDS = {
    "generate": _cmd_generate,
    "finish": _cmd_finish,
    "verify": _cmd_verify,
    "sample": _cmd_sample,
    "space": _cmd_space,
    "coverage": _cmd_coverage,
    "probe": _cmd_probe,
    "preview": _cmd_preview,
}


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (a scheduler or ``kill`` stopping the command). A KeyboardInterrupt,
    so that everything that stops in order on Ctrl-C (the worker pool, the writer
    thread) does so on SIGTERM too."""


_STOPPED_BY: list = []  # the stop signals (SIGINT, SIGTERM) received while main runs a command


@contextmanager
def _stop_signals() -> Iterator[None]:
    """For the block, SIGTERM raises :class:`Terminated` in the main thread (as SIGINT
    raises KeyboardInterrupt), and both signals are recorded in ``_STOPPED_BY``. The
    record is what tells a stop from a failure when the exception came out as another:
    raised while ctypes converts a C call's arguments (a GL read, say), it leaves as that
    call's ``ctypes.ArgumentError``. SIGINT is handled so only where Python's own handler
    is set (not where it is ignored); outside the main thread, where no handler can be
    set, signals are left alone."""
    def interrupt(signum, frame):
        _STOPPED_BY.append(signum)
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    _STOPPED_BY.clear()
    try:
        previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, interrupt)}
    except ValueError:  # not the main thread
        yield
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _stopped(command: str, terminated: bool) -> int:
    """Say that ``command`` was stopped (by SIGTERM when ``terminated``, else by Ctrl-C);
    returns its exit status."""
    resumable = command in ("generate", "finish")
    print(f"scenegen {command}: {'terminated (SIGTERM)' if terminated else 'interrupted'}"
          + ("; what was written is kept: run the same command again to resume" if resumable else ""),
          file=sys.stderr)
    return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with _stop_signals():
            return _COMMANDS[args.command](args)
    except ScenegenError as exc:  # its class says whose to fix: the input's (2) or the run's (1)
        print(f"scenegen {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt as stop:
        return _stopped(args.command, isinstance(stop, Terminated))
    except BrokenPipeError:  # the reader went away (`scenegen coverage DIR | head`)
        # Python flushes stdout again at exit; send that flush nowhere instead of failing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAULT
    except OSError as exc:  # a write no command turned into a message of its own (a full disk)
        what = exc.strerror or f"{type(exc).__name__}: {exc}"
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"scenegen {args.command}: error: {what}{where}; fix it and run the same command again", file=sys.stderr)
        return EXIT_FAULT
    except Exception:
        if not _STOPPED_BY:
            raise
        return _stopped(args.command, _STOPPED_BY[-1] == signal.SIGTERM)  # the stop, come out as another error


def run() -> NoReturn:
    """The ``scenegen`` program: :func:`main` with this process's arguments, then exit
    with its status, skipping the interpreter's teardown where nothing is left to do."""
    status = main()
    exit_fast(int(status or 0))


def exit_fast(status: int) -> NoReturn:
    """End the process with ``status`` once its work is done: run the exit handlers
    (``atexit``: the GL context's release, temporary folders, logging), flush stdout and
    stderr, then leave without tearing the interpreter down. Tearing down the modules a
    command loads (trimesh, SciPy, pyrender, Hydra) costs 0.15-0.2 s, a tenth of a short
    command, and frees nothing the end of the process would not. While a thread other
    than this one still runs (a write in flight), Python's own exit waits for it instead."""
    if any(thread.is_alive() and not thread.daemon for thread in threading.enumerate()
           if thread is not threading.current_thread()):
        sys.exit(status)
    atexit._run_exitfuncs()  # noqa: SLF001 (what the interpreter runs first when it exits)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader gone (`| head`) or a stream closed: nothing to save
            pass
    os._exit(status)


if __name__ == "__main__":
    run()
