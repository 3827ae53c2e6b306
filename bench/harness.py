"""The benchmark: wf against Entangled and the floors, in one run, on one machine.

Everything it needs is made under one temporary folder: a tmpfs (when root can mount
one) or a plain folder for the corpora, and throw-away venvs for wf (the repository,
installed as a user would), for the peer (``entangled-cli`` from PyPI) and for the plot
(matplotlib). Every timed command is its own child process; its CPU time (user + system,
its children included) and peak RSS come from ``wait4``. Repetitions interleave the
tools (the order alternates each round) and the medians are reported as ratios; absolute
times on a shared machine are noise, ratios measured side by side are not.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import corpus
from corpus import SET_NAME, Size

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PEER = "entangled-cli"
TOOLS = ("matplotlib",)
PROFILER = "pyinstrument"
SHOWN_IN_PROFILES = r".*/(runner|markdown_it|mdit_py_plugins|yaml|jinja2|click)/.*"
FULL_SIZES = (Size(10, 10, 20), Size(100, 10, 20), Size(1000, 10, 20))
QUICK_SIZES = (Size(10, 10, 20), Size(100, 10, 20))
SETTLE = 1.2  # s from the last write to the no-op runs: stats older than 1 s can be trusted
ENTANGLED_CONFIG = 'version = "2.0"\nwatch_list = ["workflows/**/*.md"]\nannotation = "naked"\n'


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_kib: int


@dataclass
class Workspace:
    """The temporary folders of one run."""

    base: Path
    fs: Path  # where corpora live (tmpfs when possible)
    fs_kind: str
    mounted: bool
    venvs: Path
    logs: Path


@dataclass
class Tools:
    wf: Path  # the wf venv's bin/
    peer: Path  # the Entangled venv's bin/
    plot: Path  # the matplotlib venv's bin/

    def wf_cmd(self, *args: str) -> list[str]:
        return [str(self.wf / "wf"), *args]

    def entangled_cmd(self, *args: str) -> list[str]:
        return [str(self.peer / "entangled"), *args]

    def floor_cmd(self, *args: str) -> list[str]:
        return [str(self.wf / "python"), str(BENCH / "floors.py"), *args]


@dataclass
class Results:
    meta: dict[str, object] = field(default_factory=dict)
    sizes: dict[str, dict[str, list[Sample]]] = field(default_factory=dict)
    startup: dict[str, list[Sample]] = field(default_factory=dict)
    backend: dict[str, object] = field(default_factory=dict)
    profiles: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class BenchError(Exception):
    """A command failed or the tools disagree: the run is not valid."""


# --- running and timing one child ------------------------------------------------------


def timed(argv: Sequence[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> Sample:
    """Run ``argv``; its wall time, CPU time (user+sys, waited-for children included) and
    peak RSS. Output goes to ``log``; a non-zero exit is a BenchError."""
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env
        )
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # interrupted: end the child, so the tmpfs can be unmounted
            proc.kill()
            proc.wait()
            raise
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise BenchError(f"{' '.join(argv)} (in {cwd}) exited {proc.returncode}:\n{tail}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


def run(argv: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """An untimed setup command; its output, or a BenchError with it."""
    done = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return done.stdout


def child_env() -> dict[str, str]:
    """The environment of every timed command: no colours, no CI defaults."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "VIRTUAL_ENV", "PYTHONPATH")}
    env.update({"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "120"})
    return env


# --- setup ------------------------------------------------------------------------------


def make_workspace(base: Path | None) -> Workspace:
    base = base.resolve() if base else Path(tempfile.mkdtemp(prefix="wf-bench-"))
    fs = base / "fs"
    if fs.is_mount():
        subprocess.run(["umount", str(fs)], check=False)
    shutil.rmtree(fs, ignore_errors=True)
    fs.mkdir(parents=True)
    mounted = False
    kind = f"plain temporary folder ({_fs_type(fs)}); not root, or mount refused"
    if os.geteuid() == 0:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4g,mode=0700", "tmpfs", str(fs)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            mounted, kind = True, "tmpfs (mounted for this run)"
        else:
            kind = f"plain temporary folder ({_fs_type(fs)}); mount refused: {done.stderr.strip()}"
    venvs, logs = base / "venvs", base / "logs"
    venvs.mkdir(exist_ok=True)
    logs.mkdir(exist_ok=True)
    return Workspace(base, fs, kind, mounted, venvs, logs)


def _fs_type(path: Path) -> str:
    try:
        return run(["stat", "-f", "-c", "%T", str(path)]).strip()
    except (BenchError, OSError):
        return "unknown"


def release(ws: Workspace, keep: bool) -> None:
    if ws.mounted:
        subprocess.run(["umount", str(ws.fs)], check=False)
    if not keep:
        shutil.rmtree(ws.base, ignore_errors=True)


def make_venv(folder: Path, packages: list[str], refresh: list[str] | None = None) -> Path:
    """A venv with ``packages``; an existing one (``--work`` reuse) only gets ``refresh``
    reinstalled. Returns its bin/ folder."""
    bin_dir = folder / "bin"
    ready = folder / ".bench-ready"
    if not ready.exists():
        shutil.rmtree(folder, ignore_errors=True)
        run([sys.executable, "-m", "venv", str(folder)])
        run([str(bin_dir / "python"), "-m", "pip", "install", "-q", *packages])
        ready.write_text(" ".join(packages), encoding="utf-8")
    elif refresh:
        pip = [str(bin_dir / "python"), "-m", "pip", "install", "-q"]
        run([*pip, "--no-deps", "--force-reinstall", *refresh])
        run([*pip, *refresh])  # dependencies the refreshed package added since
    return bin_dir


def make_tools(ws: Workspace, log: Callable[[str], None]) -> Tools:
    log("venvs: wf (this repository), Entangled (PyPI entangled-cli), plot (matplotlib)")
    # the services extra: the embedded moto S3 server the python-backend checks use
    wf = make_venv(ws.venvs / "wf", [f"{REPO}[services]", PROFILER], refresh=[str(REPO)])
    peer = make_venv(ws.venvs / "entangled", [PEER])
    plot = make_venv(ws.venvs / "plot", list(TOOLS))
    return Tools(wf, peer, plot)


# --- the corpus measures ---------------------------------------------------------------


@dataclass
class Corpus:
    size: Size
    wf_root: Path
    peer_root: Path
    naive_out: Path

    @property
    def wf_out(self) -> Path:
        return self.wf_root / "sdlc" / SET_NAME

    @property
    def edited_doc(self) -> int:
        return (self.size.docs + 1) // 2


def make_corpus(ws: Workspace, size: Size) -> Corpus:
    base = ws.fs / size.label
    shutil.rmtree(base, ignore_errors=True)
    made = Corpus(size, base / "wf", base / "entangled", base / "naive")
    for root in (made.wf_root, made.peer_root):
        corpus.write_corpus(root, size)
    (made.peer_root / "entangled.toml").write_text(ENTANGLED_CONFIG, encoding="utf-8")
    return made


def clean(*paths: Path) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


class Round:
    """One round of every corpus measure; each timed command appends a Sample."""

    def __init__(self, tools: Tools, ws: Workspace, store: dict[str, list[Sample]]) -> None:
        self.tools, self.ws, self.store = tools, ws, store
        self.env = child_env()

    def time(self, name: str, argv: list[str], cwd: Path) -> None:
        log = self.ws.logs / f"{name.replace(' ', '_').replace('/', '_')}.log"
        self.store.setdefault(name, []).append(timed(argv, cwd, log, self.env))

    def wf_clean(self, c: Corpus) -> None:
        clean(c.wf_root / "sdlc", c.wf_root / ".wf")
        self.time("wf clean build", self.tools.wf_cmd("build"), c.wf_root)

    def peer_clean(self, c: Corpus) -> None:
        clean(c.peer_root / "src", c.peer_root / ".entangled")
        self.time("entangled clean build", self.tools.entangled_cmd("tangle"), c.peer_root)

    def floor_write(self, c: Corpus) -> None:
        clean(c.naive_out)
        argv = self.tools.floor_cmd("write", str(c.wf_root), str(c.naive_out))
        self.time("floor parse+write", argv, c.wf_root)

    def wf_noop(self, c: Corpus) -> None:
        self.time("wf first no-op build", self.tools.wf_cmd("build"), c.wf_root)
        self.time("wf no-op verify", self.tools.wf_cmd("verify"), c.wf_root)
        self.time("wf no-op build", self.tools.wf_cmd("build"), c.wf_root)

    def peer_noop(self, c: Corpus) -> None:
        self.time("entangled no-op", self.tools.entangled_cmd("tangle"), c.peer_root)

    def floors_read(self, c: Corpus) -> None:
        self.time("floor parse", self.tools.floor_cmd("parse", str(c.wf_root)), c.wf_root)
        self.time("floor hash", self.tools.floor_cmd("hash", str(c.wf_out)), c.wf_root)

    def wf_edit(self, c: Corpus) -> None:
        corpus.edit_document(c.wf_root, c.size, c.edited_doc, 1)
        self.time("wf edit build", self.tools.wf_cmd("build"), c.wf_root)

    def peer_edit(self, c: Corpus) -> None:
        corpus.edit_document(c.peer_root, c.size, c.edited_doc, 1)
        self.time("entangled edit build", self.tools.entangled_cmd("tangle"), c.peer_root)

    def restore(self, c: Corpus) -> None:
        for root in (c.wf_root, c.peer_root):
            corpus.edit_document(root, c.size, c.edited_doc, 0)


def measure_size(
    tools: Tools, ws: Workspace, size: Size, reps: int, results: Results, log: Callable[[str], None]
) -> None:
    c = make_corpus(ws, size)
    store: dict[str, list[Sample]] = {}
    r = Round(tools, ws, store)
    for rep in range(reps):
        log(f"  {size.label}: round {rep + 1}/{reps}")
        first, second = (r.wf_clean, r.peer_clean) if rep % 2 == 0 else (r.peer_clean, r.wf_clean)
        first(c)
        second(c)
        r.floor_write(c)
        if rep == 0:
            assert_same_outputs(c, {}, results)
        time.sleep(SETTLE)
        for step in (r.wf_noop, r.peer_noop) if rep % 2 == 0 else (r.peer_noop, r.wf_noop):
            step(c)
        r.floors_read(c)
        for step in (r.wf_edit, r.peer_edit) if rep % 2 == 0 else (r.peer_edit, r.wf_edit):
            step(c)
        if rep == 0:
            assert_same_outputs(c, {c.edited_doc: 1}, results, naive=False)
            r.time("wf verify after edit", tools.wf_cmd("verify"), c.wf_root)  # must be clean
        r.restore(c)
    results.sizes[size.label] = store


def assert_same_outputs(
    c: Corpus, edited: dict[int, int], results: Results, naive: bool = True
) -> None:
    """wf, Entangled (and the naive writer) wrote exactly the expected files."""
    expected = corpus.expected_outputs(c.size, edited)
    wf_files = _tree(c.wf_out, strip_step=True)
    peer_files = _tree(c.peer_root / "src", prefix="src/")
    missing_newline = sum(1 for text in peer_files.values() if not text.endswith("\n"))
    peer_files = {k: v if v.endswith("\n") else v + "\n" for k, v in peer_files.items()}
    trees = {"wf": wf_files, "Entangled": peer_files}
    if naive:
        trees["naive writer"] = _tree(c.naive_out / SET_NAME, strip_step=True)
    for name, files in trees.items():
        if files != expected:
            wrong = sorted(set(files) ^ set(expected)) or sorted(
                k for k in expected if files.get(k) != expected[k]
            )
            raise BenchError(f"{c.size.label}: {name} output differs from the corpus: {wrong[:5]}")
    note = (
        f"{c.size.label}: wf, Entangled and the naive writer wrote the same {len(expected)} files"
        if naive
        else f"{c.size.label}: after editing one document wf and Entangled agree again"
    )
    if missing_newline:
        note += (
            f" (Entangled wrote {missing_newline} new files without a final newline; "
            "compared with it added)"
        )
    results.notes.append(note)


def _tree(folder: Path, strip_step: bool = False, prefix: str = "") -> dict[str, str]:
    """relative path -> text of every file below ``folder`` (not the manifest)."""
    files = {}
    for path in folder.rglob("*"):
        if path.is_file() and path.name != "manifest.json":
            rel = path.relative_to(folder).as_posix()
            if strip_step:
                rel = rel.split("/", 1)[1]
            files[prefix + rel] = path.read_text(encoding="utf-8")
    return files


def measure_startup(tools: Tools, ws: Workspace, reps: int, results: Results) -> None:
    store: dict[str, list[Sample]] = {}
    r = Round(tools, ws, store)
    commands = [
        ("wf --help", tools.wf_cmd("--help")),
        ("wf --version", tools.wf_cmd("--version")),
        ("entangled --version", tools.entangled_cmd("--version")),
    ]
    for rep in range(reps):
        for name, argv in commands if rep % 2 == 0 else reversed(commands):
            r.time(name, argv, ws.fs)
    results.startup = store


def profile(tools: Tools, ws: Workspace, size: Size, results: Results) -> None:
    """pyinstrument call trees of the wf measures at ``size`` (frames >= 3 % of the run)."""
    c = make_corpus(ws, size)
    cases = [
        ("wf clean build", ["build"], lambda: clean(c.wf_root / "sdlc", c.wf_root / ".wf")),
        ("wf no-op verify", ["verify"], lambda: None),
        ("wf edit build", ["build"], lambda: corpus.edit_document(c.wf_root, size, 1, 1)),
    ]
    out = ws.logs / "profile.txt"
    prof = [str(tools.wf / "python"), "-m", PROFILER, "-r", "text", "-o", str(out)]
    prof += ["--no-color", "--unicode", "--show-regex", SHOWN_IN_PROFILES]
    prof += ["-p", "processor_options.filter_threshold=0.03"]
    for name, args, prepare in cases:
        prepare()
        run([*prof, "-m", "runner", *args], cwd=c.wf_root, env=child_env())
        text = out.read_text(encoding="utf-8")
        results.profiles[f"{name}, {size.label}"] = _trim_profile(text, tools.wf.parent)


def _trim_profile(text: str, venv: Path) -> str:
    """The call tree without pyinstrument's banner, its footer and the venv's prefix."""
    lines = [line.replace(str(venv), "<venv>") for line in text.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("Duration")), 0)
    end = next((i for i, line in enumerate(lines) if "To view this report" in line), len(lines))
    return "\n".join(lines[start:end])


# --- the python-backend workflow ------------------------------------------------------


def measure_backend(
    tools: Tools,
    ws: Workspace,
    cold_reps: int,
    warm_reps: int,
    results: Results,
    log: Callable[[str], None],
) -> None:
    """``wf verify --checks --strict`` on a copy of this repository: cold (no .wf/) and
    unchanged reruns; the JSON report gives each check's duration."""
    project = ws.base / "backend"
    clean(project)
    copy_repository(project)
    env = child_env()
    argv = tools.wf_cmd("verify", "--checks", "--strict", "--format", "json")
    cold: list[Sample] = []
    warm: list[Sample] = []
    reports: list[dict[str, object]] = []
    for rep in range(cold_reps):
        log(f"  python-backend: cold {rep + 1}/{cold_reps}")
        clean(project / ".wf")
        out = ws.logs / f"backend_cold_{rep}.json"
        cold.append(timed(argv, project, out, env))
        reports.append(json.loads(out.read_text(encoding="utf-8")))
        venvs = project / ".wf" / "venvs"
        results.backend["venvs built"] = len([p for p in venvs.iterdir() if p.is_dir()])
    for rep in range(warm_reps):
        log(f"  python-backend: unchanged rerun {rep + 1}/{warm_reps}")
        warm.append(timed(argv, project, ws.logs / "backend_warm.json", env))
    results.backend["cold"] = [asdict(s) for s in cold]
    results.backend["warm"] = [asdict(s) for s in warm]
    results.backend["checks"] = _check_durations(reports)
    results.backend["venv"] = measure_venv_build(tools, ws, project, log)


def copy_repository(dest: Path) -> None:
    """The working tree's tracked and unignored files (not .venv, not .wf)."""
    names = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], REPO)
    for name in filter(None, names.split("\0")):
        source = REPO / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _check_durations(reports: list[dict[str, object]]) -> list[dict[str, object]]:
    """Per check: the median duration over the cold runs."""
    by_check: dict[tuple[str, str], list[float]] = {}
    for report in reports:
        checks = report.get("checks", [])
        assert isinstance(checks, list)
        for check in checks:
            by_check.setdefault((check["step"], check["name"]), []).append(check["duration"])
    return [
        {"step": step, "name": name, "duration": statistics.median(values)}
        for (step, name), values in sorted(by_check.items())
    ]


def check_python(tools: Tools) -> str:
    """The interpreter wf's checks use (its own discovery: WF_PYTHON, PATH, pyenv)."""
    code = (
        "import os; from runner.checks._interpreter import find_interpreter; "
        "print(find_interpreter(None, os.environ, None).path)"
    )
    return run([str(tools.wf / "python"), "-c", code], env=child_env()).strip()


def measure_venv_build(
    tools: Tools, ws: Workspace, project: Path, log: Callable[[str], None]
) -> dict[str, object]:
    """Build the last step's check venv by hand, once with uv (as wf does) and once with
    venv + pip, from the same requirement list; both with their caches warm."""
    import tomllib

    export = ws.base / "backend-export"
    clean(export)
    run(tools.wf_cmd("export", str(export)), cwd=project, env=child_env())
    data = tomllib.loads((export / "pyproject.toml").read_text(encoding="utf-8"))
    project_table = data.get("project", {})
    requirements = list(project_table.get("dependencies", []))
    requirements += project_table.get("optional-dependencies", {}).get("dev", [])
    python = check_python(tools)
    uv = str(tools.wf / "uv")
    target = ws.base / "venv-probe"
    env = child_env()
    log("  python-backend: one check venv built with uv, then with pip")
    clean(target)
    uv_create = timed(
        [uv, "venv", "--python", python, str(target)], ws.base, ws.logs / "uv.log", env
    )
    uv_install = timed(
        [uv, "pip", "install", "--python", str(target / "bin" / "python"), *requirements],
        ws.base,
        ws.logs / "uv-install.log",
        env,
    )
    clean(target)
    pip_create = timed([python, "-m", "venv", str(target)], ws.base, ws.logs / "venv.log", env)
    pip_install = timed(
        [str(target / "bin" / "pip"), "install", "-q", *requirements],
        ws.base,
        ws.logs / "pip-install.log",
        env,
    )
    clean(target)
    return {
        "python": run([python, "--version"]).strip(),
        "requirements": len(requirements),
        "uv": asdict(Sample(uv_create.wall + uv_install.wall, uv_create.cpu + uv_install.cpu, 0)),
        "pip": asdict(
            Sample(pip_create.wall + pip_install.wall, pip_create.cpu + pip_install.cpu, 0)
        ),
    }


# --- machine and versions ---------------------------------------------------------------


def source_identity() -> str:
    """The commit measured (taken before the venv install copies the working tree)."""
    commit = run(["git", "rev-parse", "--short", "HEAD"], REPO).strip()
    dirty = bool(run(["git", "status", "--porcelain", "--", "runner", "bench"], REPO).strip())
    return f"commit {commit}{' + local changes' if dirty else ''}"


def machine(ws: Workspace, tools: Tools, identity: str) -> dict[str, object]:
    cpu = "unknown"
    with Path("/proc/cpuinfo").open(encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = next(
        (
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        "0",
    )
    versions = {
        "wf": run(tools.wf_cmd("--version")).strip() + f" ({identity})",
        "Entangled": run(tools.entangled_cmd("--version")).strip(),
        "markdown-it-py": run(
            [str(tools.wf / "python"), "-c", "import markdown_it; print(markdown_it.__version__)"]
        ).strip(),
        "Python": platform.python_version(),
        "uv": run([str(tools.wf / "uv"), "--version"]).strip(),
    }
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(int(memory) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "filesystem": ws.fs_kind,
        "load_before": list(os.getloadavg()),
        "versions": versions,
    }


# --- main -------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run",
        description="Benchmark wf against Entangled and the floors; write docs/benchmarks.md.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="development run: sizes 10x10 and 100x10, 3 rounds, results to the "
        "work folder unless --out",
    )
    parser.add_argument("--reps", type=int, help="rounds per measure [5; --quick 3]")
    parser.add_argument(
        "--work",
        type=Path,
        help="work folder to use and keep (its venvs are reused) [a new temp dir]",
    )
    parser.add_argument("--out", type=Path, help="where benchmarks.md/.json/.png go [docs/]")
    parser.add_argument(
        "--no-backend",
        action="store_true",
        help="skip the python-backend wf verify --checks measures",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the pyinstrument profiles")
    parser.add_argument(
        "--backend-only",
        action="store_true",
        help="measure only the python-backend figures and put them into the "
        "benchmarks.json already in --out (the corpus figures stay as that run left them)",
    )
    parser.add_argument("--cold-reps", type=int, help="cold python-backend rounds [2; --quick 1]")
    parser.add_argument(
        "--render",
        action="store_true",
        help="measure nothing: rewrite benchmarks.md from benchmarks.json and bench/notes.md",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.render:
        out = args.out or REPO / "docs"
        render_markdown(json.loads((out / "benchmarks.json").read_text(encoding="utf-8")), out)
        return 0
    reps = args.reps or (3 if args.quick else 5)
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:6.0f}s] {message}", flush=True)

    cold_reps = args.cold_reps or (1 if args.quick else 2)
    if args.backend_only:
        return backend_only(args, cold_reps, reps, log)
    ws = make_workspace(args.work)
    out = args.out or (ws.base / "out" if args.quick else REPO / "docs")
    log(f"work folder {ws.base}; corpora on {ws.fs_kind}")
    results = Results()
    try:
        identity = source_identity()
        tools = make_tools(ws, log)
        results.meta = machine(ws, tools, identity)
        results.meta["reps"] = reps
        results.meta["command"] = "bench/run " + " ".join(argv)
        log("startup: wf --help / --version, entangled --version")
        measure_startup(tools, ws, max(reps, 10), results)
        for size in sizes:
            log(f"corpus {size.label} ({size.lines} lines per block)")
            measure_size(tools, ws, size, reps, results, log)
        if not args.no_profile:
            log(f"profiles at {sizes[-1].label}")
            profile(tools, ws, sizes[-1], results)
        if not args.no_backend:
            log("python-backend: wf verify --checks")
            try:
                measure_backend(tools, ws, cold_reps, reps, results, log)
            except BenchError as exc:  # keep the corpus figures; say why these are missing
                results.backend = {}
                results.notes.append(f"python-backend measures failed: {str(exc)[:300]}")
        results.meta["load_after"] = list(os.getloadavg())
        results.meta["duration_s"] = round(time.monotonic() - started)
        write_outputs(results, tools, out, log)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    finally:
        release(ws, keep=args.work is not None)
    return 0


def backend_only(
    args: argparse.Namespace, cold_reps: int, warm_reps: int, log: Callable[[str], None]
) -> int:
    """The python-backend measures of this run into an earlier run's benchmarks.json
    (its corpus figures untouched; ``meta.backend`` says when and at which commit)."""
    out = args.out or REPO / "docs"
    data_file = out / "benchmarks.json"
    if not data_file.is_file():
        print(f"bench: --backend-only needs {data_file} from a corpus run", file=sys.stderr)
        return 1
    data = json.loads(data_file.read_text(encoding="utf-8"))
    ws = make_workspace(args.work)
    results = Results()
    try:
        tools = make_tools(ws, log)
        load_before = list(os.getloadavg())
        started = time.monotonic()
        log("python-backend: wf verify --checks")
        measure_backend(tools, ws, cold_reps, warm_reps, results, log)
        data["backend"] = results.backend
        data["meta"]["backend"] = {
            "command": "bench/run " + " ".join(sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "wf": source_identity(),
            "load_before": load_before,
            "load_after": list(os.getloadavg()),
            "duration_s": round(time.monotonic() - started),
        }
        data_file.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        render_markdown(data, out)
        log(f"wrote the python-backend figures into {data_file} and {out / 'benchmarks.md'}")
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    finally:
        release(ws, keep=args.work is not None)
    return 0


def render_markdown(data: dict[str, object], out: Path) -> None:
    import report

    notes = BENCH / "notes.md"
    text = report.render(data, notes.read_text(encoding="utf-8") if notes.exists() else "")
    (out / "benchmarks.md").write_text(text, encoding="utf-8")


def write_outputs(results: Results, tools: Tools, out: Path, log: Callable[[str], None]) -> None:

    out.mkdir(parents=True, exist_ok=True)
    data = asdict(results)
    (out / "benchmarks.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    run(
        [
            str(tools.plot / "python"),
            str(BENCH / "plot.py"),
            str(out / "benchmarks.json"),
            str(out / "benchmarks.png"),
        ]
    )
    render_markdown(data, out)
    log(f"wrote {out / 'benchmarks.md'}, {out / 'benchmarks.png'}, {out / 'benchmarks.json'}")
