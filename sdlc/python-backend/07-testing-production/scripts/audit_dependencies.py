"""Audit what the image ships (uv.lock without dev tools) for known vulnerabilities.

1. `uv export` writes the runtime closure of uv.lock as hashed requirements;
2. `pip-audit` checks every pin against the PyPI advisory service (OSV data);
3. a pin pip-audit could not look up (the per-version API unreachable) is looked up in
   the package's PyPI JSON instead, when the pin is its newest release (that JSON lists
   the newest release's vulnerabilities only);
4. anything still unaudited is named. With nothing audited at all (the advisory database
   out of reach), or with `--strict` and any pin unaudited, the audit FAILS: a database
   that cannot be reached is never reported as "no known vulnerabilities".

Exit codes: 0 no known vulnerabilities in what was audited (unaudited pins are listed),
1 vulnerabilities found, 3 nothing could be audited (or, with --strict, something).
"""

import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

PYPI = "https://pypi.org/pypi/{name}/json"


def say(line: str, *, error: bool = False) -> None:
    (sys.stderr if error else sys.stdout).write(line + "\n")


def export_requirements(path: Path) -> dict[str, str]:
    """Write the hashed runtime requirements; return {name: version} of every pin."""
    uv = shutil.which("uv")
    if uv is None:
        raise SystemExit("uv not found (it is a dev dependency: make install)")
    subprocess.run(  # noqa: S603 (fixed arguments)
        [
            uv,
            "export",
            "--frozen",
            "--no-dev",
            "--no-emit-project",
            "--quiet",
            "--format",
            "requirements-txt",
            "--output-file",
            str(path),
        ],
        check=True,
    )
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", path.read_text(), re.MULTILINE)
    return {name.lower(): version for name, version in pins}


def pip_audit(requirements: Path, pins: dict[str, str]) -> list[dict[str, Any]]:
    result = subprocess.run(  # noqa: S603 (fixed arguments)
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--requirement",
            str(requirements),
            "--require-hashes",
            "--disable-pip",
            "--format",
            "json",
            "--progress-spinner",
            "off",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:  # exit 1 with a report: vulnerabilities found; without one: it could not run
        dependencies: list[dict[str, Any]] = json.loads(result.stdout)["dependencies"]
    except (ValueError, KeyError):
        lines = result.stderr.strip().splitlines() or [f"exit code {result.returncode}"]
        return [{"name": name, "skip_reason": f"pip-audit failed: {lines[-1]}"} for name in pins]
    return dependencies


def newest_release_advisories(name: str, version: str) -> list[str] | str:
    """Advisory ids for name==version from PyPI's project JSON, or why not available."""
    try:
        with urllib.request.urlopen(PYPI.format(name=name), timeout=20) as response:  # noqa: S310
            data = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"PyPI unreachable ({exc.__class__.__name__})"
    if data["info"]["version"] != version:
        return f"not the newest release ({data['info']['version']}): no fallback data"
    return [v["id"] for v in data.get("vulnerabilities") or [] if not v.get("withdrawn")]


def main(argv: list[str]) -> int:
    strict = "--strict" in argv
    with tempfile.TemporaryDirectory() as scratch:
        requirements = Path(scratch) / "requirements.txt"
        pins = export_requirements(requirements)
        dependencies = pip_audit(requirements, pins)

    found: dict[str, list[str]] = {}
    unaudited: dict[str, tuple[str, str]] = {}
    by_pip_audit = by_fallback = 0
    for dependency in dependencies:
        if "skip_reason" not in dependency:
            by_pip_audit += 1
            if dependency["vulns"]:
                found[f"{dependency['name']}=={dependency['version']}"] = [
                    vuln["id"] for vuln in dependency["vulns"]
                ]
            continue
        name = dependency["name"].lower()
        unaudited[name] = (pins.get(name, "?"), dependency["skip_reason"])

    skipped = [(name, version) for name, (version, _) in unaudited.items()]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda pin: newest_release_advisories(*pin), skipped))
    for (name, version), answer in zip(skipped, answers, strict=True):
        if isinstance(answer, str):
            unaudited[name] = (version, f"{unaudited[name][1]}; {answer}")
            continue
        by_fallback += 1
        del unaudited[name]
        if answer:
            found[f"{name}=={version}"] = answer

    audited = by_pip_audit + by_fallback
    say(
        f"audited {audited} of {audited + len(unaudited)} pinned packages "
        f"(pip-audit: {by_pip_audit}, PyPI JSON of the newest release: {by_fallback})"
    )
    if unaudited:
        say("NOT AUDITED: the advisory database could not be reached for:", error=True)
        for name, (version, reason) in sorted(unaudited.items()):
            say(f"  {name}=={version}: {reason}", error=True)
    for pin, ids in sorted(found.items()):
        say(f"VULNERABLE {pin}: {', '.join(ids)}")
    if found:
        return 1
    if audited == 0 or (strict and unaudited):
        return 3
    say(f"no known vulnerabilities in the {audited} audited pins")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
