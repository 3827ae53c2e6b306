"""Small helpers to build fixture workflow projects in a temporary folder."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from click.testing import CliRunner, Result

FENCE = "```"


def md(text: str) -> str:
    """Dedent a Markdown document written inline in a test (leading newline dropped)."""
    return textwrap.dedent(text).lstrip("\n")


def block(info: str, body: str, ticks: str = FENCE) -> str:
    """A fenced block: ``info`` on the opening fence, ``body`` (dedented) inside."""
    body = textwrap.dedent(body).lstrip("\n")
    if body and not body.endswith("\n"):
        body += "\n"
    return f"{ticks}{info}\n{body}{ticks}\n"


def write_project(
    root: Path,
    steps: dict[str, str],
    set_name: str = "demo",
    wf_yaml: str | None = None,
    extra: dict[str, str] | None = None,
) -> Path:
    """Create ``root/workflows/<set_name>/`` holding the given documents; return ``root``."""
    folder = root / "workflows" / set_name
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {**steps, **(extra or {})}.items():
        (folder / name).write_text(text, encoding="utf-8", newline="\n")
    if wf_yaml is not None:
        (folder / "wf.yaml").write_text(wf_yaml, encoding="utf-8")
    return root


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the ``nth`` line of ``text`` that contains ``needle``."""
    hits = [i for i, line in enumerate(text.split("\n"), start=1) if needle in line]
    assert len(hits) >= nth, f"{needle!r} occurs {len(hits)} time(s)"
    return hits[nth - 1]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every regular file below ``folder`` (POSIX relative path -> bytes)."""
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def stats(folder: Path) -> dict[str, tuple[int, int]]:
    """Inode and mtime (ns) of every file below ``folder``: proof nothing was rewritten."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def age(folder: Path, seconds: int = 100) -> None:
    """Push every file's mtime into the past, so a rewrite would certainly change it."""
    for p in folder.rglob("*"):
        if p.is_file():
            st = p.stat()
            os.utime(p, ns=(st.st_atime_ns - seconds * 10**9, st.st_mtime_ns - seconds * 10**9))


def wf(root: Path | None, *args: str) -> Result:
    """Run ``wf [--root ROOT] ARGS`` in-process (stdout and stderr kept apart)."""
    from runner.cli import main

    argv = (["--root", str(root)] if root is not None else []) + list(args)
    return CliRunner().invoke(main, argv, catch_exceptions=False)


def overlay(out_dir: Path) -> dict[str, bytes]:
    """Overlay ``out_dir``'s step folders in order, as DESIGN §3 says export does."""
    merged: dict[str, bytes] = {}
    for step_dir in sorted(p for p in out_dir.iterdir() if p.is_dir()):
        merged.update(snapshot(step_dir))
    return merged


# A small but complete set: templating, a shebang script, GitHub Actions syntax, a patch,
# an append, first-line targets. EXPECTED is written by hand from DESIGN §2/§3.

STEP1 = (
    md(
        """
        ---
        title: Project setup
        vars:
          name: shop
        ---
        # Project setup

        Create the project file:

        """
    )
    + block("toml path=pyproject.toml template", '[project]\nname = "{{ name }}"\n')
    + "\n"
    + block("python path=app/main.py", "from fastapi import FastAPI\n\napp = FastAPI()\n")
    + "\n"
    + block("sh path=scripts/run.sh", "#!/bin/sh\nexec uvicorn app.main:app\n")
    + "\n"
    + block("yaml path=.github/workflows/ci.yml", "env:\n  TOKEN: ${{ secrets.TOKEN }}\n")
    + "\n"
    + block("text path=requirements.txt", "fastapi\n")
)

STEP2 = (
    "# Routes\n\n"
    + block(
        "diff path=app/main.py mode=patch",
        "--- a/app/main.py\n+++ b/app/main.py\n@@ -1,3 +1,5 @@\n from fastapi import FastAPI\n"
        "+\n+from app.routes import router\n \n app = FastAPI()\n",
    )
    + "\n"
    + block("text path=requirements.txt mode=append", "uvicorn\n")
    + "\n"
    + block("python path=app/routes.py", "from fastapi import APIRouter\n\nrouter = APIRouter()\n")
)

STEP3 = (
    "# Docs\n\n"
    + block("markdown", "<!-- path: docs/index.md -->\n# Shop\n")
    + "\n"
    + block("js", "// path: static/app.js\nconsole.log(1);\n")
    + "\n"
    + block("sql", "-- path: db/init.sql\nCREATE TABLE t (id int);\n")
    + "\nAn example that is not written:\n\n"
    + block("python", "print('example')\n")
)

STEPS = {
    "01_project_setup.md": STEP1,
    "02_routes.md": STEP2,
    "03_docs.md": STEP3,
    "README.md": "# The demo set\n\n" + block("python path=never.py", "NO\n"),
}

MAIN_1 = "from fastapi import FastAPI\n\napp = FastAPI()\n"
MAIN_2 = "from fastapi import FastAPI\n\nfrom app.routes import router\n\napp = FastAPI()\n"
ROUTES = "from fastapi import APIRouter\n\nrouter = APIRouter()\n"

EXPECTED = {
    "01-project-setup/pyproject.toml": b'[project]\nname = "shop"\n',
    "01-project-setup/app/main.py": MAIN_1.encode(),
    "01-project-setup/scripts/run.sh": b"#!/bin/sh\nexec uvicorn app.main:app\n",
    "01-project-setup/.github/workflows/ci.yml": b"env:\n  TOKEN: ${{ secrets.TOKEN }}\n",
    "01-project-setup/requirements.txt": b"fastapi\n",
    "02-routes/app/main.py": MAIN_2.encode(),
    "02-routes/requirements.txt": b"fastapi\nuvicorn\n",
    "02-routes/app/routes.py": ROUTES.encode(),
    "03-docs/docs/index.md": b"# Shop\n",
    "03-docs/static/app.js": b"console.log(1);\n",
    "03-docs/db/init.sql": b"CREATE TABLE t (id int);\n",
}

ASSEMBLED = {
    "pyproject.toml": b'[project]\nname = "shop"\n',
    "app/main.py": MAIN_2.encode(),
    "app/routes.py": ROUTES.encode(),
    "scripts/run.sh": b"#!/bin/sh\nexec uvicorn app.main:app\n",
    ".github/workflows/ci.yml": b"env:\n  TOKEN: ${{ secrets.TOKEN }}\n",
    "requirements.txt": b"fastapi\nuvicorn\n",
    "docs/index.md": b"# Shop\n",
    "static/app.js": b"console.log(1);\n",
    "db/init.sql": b"CREATE TABLE t (id int);\n",
}


def standard_project(root: Path, set_name: str = "demo") -> Path:
    return write_project(root, dict(STEPS), set_name=set_name)


def doc_path(root: Path, name: str, set_name: str = "demo") -> Path:
    return root / "workflows" / set_name / name
