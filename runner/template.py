"""Opt-in jinja2 templating: sandboxed, ``StrictUndefined``, trailing newlines kept."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from runner.errors import PlanError
from runner.model import Source

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment


def render(text: str, variables: Mapping[str, Any], source: Source) -> str:
    """Render one template string; errors point at the block's Markdown line."""
    return render_with(_environment(None), text, variables, source)


def render_with(
    env: SandboxedEnvironment, text: str, variables: Mapping[str, Any], source: Source
) -> str:
    import jinja2

    try:
        return env.from_string(text).render(variables)
    except jinja2.TemplateSyntaxError as exc:
        line = source.line + (exc.lineno or 0)
        raise PlanError(f"template syntax error: {exc.message}", source.file, line) from exc
    except jinja2.UndefinedError as exc:
        message = f"template variable missing: {exc.message}"
        raise PlanError(message, source.file, source.line) from exc
    except jinja2.TemplateError as exc:
        raise PlanError(f"template error: {exc}", source.file, source.line) from exc
    except Exception as exc:
        # A template runs the document author's expressions ({{ x + 1 }}, {{ 1/0 }}), so
        # any exception there is bad input at this block, not a bug in wf: report it.
        message = f"template error: {type(exc).__name__}: {exc}"
        raise PlanError(message, source.file, source.line) from exc


def loader_environment(templates: Mapping[str, str]) -> SandboxedEnvironment:
    """An environment whose ``{% import %}``/``{% include %}`` see the given templates."""
    import jinja2

    return _new_environment(jinja2.DictLoader(dict(templates)))


@cache
def _environment(_: None) -> SandboxedEnvironment:
    return _new_environment(None)


def _new_environment(loader: Any) -> SandboxedEnvironment:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
