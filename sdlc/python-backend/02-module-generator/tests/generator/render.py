"""Render the module generator's templates (`templates/crud/`) for one spec.

The same rules as `wf apply 02 --var module=... --var fields=...`: every `*.j2` file
whose name does not start with `_` is rendered (sandboxed jinja2, undefined variables
are errors) to its path without `.j2`, the path itself rendered too. A spec the
generator refuses raises `SpecError` with the generator's one-line message.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

TEMPLATES = Path("templates/crud")
REFUSAL = "spec error: "


class SpecError(Exception):
    """The generator refused the spec; the message says which name and why."""


@dataclass(frozen=True, slots=True)
class Spec:
    module: str
    fields: str


@cache
def _environment(root: Path) -> tuple[SandboxedEnvironment, dict[str, str]]:
    sources = {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*.j2"))
    }
    environment = SandboxedEnvironment(
        loader=jinja2.DictLoader(sources),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return environment, sources


def render(spec: Spec, project: Path) -> dict[Path, str]:
    """The files the generator writes for `spec`, by path relative to `project`."""
    environment, sources = _environment(project / TEMPLATES)
    variables = {"module": spec.module, "fields": spec.fields}
    files: dict[Path, str] = {}
    for name in sources:
        if Path(name).name.startswith("_"):
            continue
        try:
            target = environment.from_string(name.removesuffix(".j2")).render(variables)
            files[Path(target)] = environment.get_template(name).render(variables)
        except jinja2.TemplateNotFound as exc:
            message = str(exc)
            if not message.startswith(REFUSAL):
                raise
            raise SpecError(message.removeprefix(REFUSAL)) from None
    return files


def write(files: dict[Path, str], project: Path) -> None:
    for path, text in files.items():
        target = project / path
        if target.exists():
            msg = f"{path} already exists"
            raise FileExistsError(msg)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
