"""Opt-in jinja2 templating: sandboxed, ``StrictUndefined``, trailing newlines kept.

The sandbox stops attribute escapes; the limits here stop a template from exhausting
the machine instead: ``**`` and ``*`` may not build huge numbers or strings, a render
may produce at most ``MAX_OUTPUT_CHARS``, run at most ``MAX_SECONDS`` and (on Linux)
allocate at most ``MAX_MEMORY`` more bytes. Each limit is a ``PlanError`` at the block.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from runner.errors import PlanError
from runner.model import Source

if TYPE_CHECKING:
    from jinja2.runtime import Context
    from jinja2.sandbox import SandboxedEnvironment

MAX_SECONDS = 10.0
MAX_OUTPUT_CHARS = 16 * 1024 * 1024
MAX_MEMORY = 1024 * 1024 * 1024
MAX_INT_BITS = 64 * 1024  # results of ** and * on numbers
MAX_ITEMS = 1024 * 1024  # results of * on strings and lists


class TemplateLimit(Exception):
    """A template went past one of the limits above."""


def render(text: str, variables: Mapping[str, Any], source: Source) -> str:
    """Render one template string; errors point at the block's Markdown line."""
    return render_with(_environment(None), text, variables, source)


def render_with(
    env: SandboxedEnvironment, text: str, variables: Mapping[str, Any], source: Source
) -> str:
    import jinja2

    try:
        with _memory_limit(), _time_limit():
            return _collect(env.from_string(text).generate(variables))
    except jinja2.TemplateSyntaxError as exc:
        line = source.line + (exc.lineno or 0)
        raise PlanError(f"template syntax error: {exc.message}", source.file, line) from exc
    except jinja2.UndefinedError as exc:
        message = f"template variable missing: {exc.message}"
        raise PlanError(message, source.file, source.line) from exc
    except jinja2.TemplateError as exc:
        raise PlanError(f"template error: {exc}", source.file, source.line) from exc
    except TemplateLimit as exc:
        raise PlanError(f"template stopped: {exc}", source.file, source.line) from exc
    except MemoryError as exc:
        message = f"template stopped: it needs more than {MAX_MEMORY >> 20} MiB of memory"
        raise PlanError(message, source.file, source.line) from exc
    except Exception as exc:
        # A template runs the document author's expressions ({{ x + 1 }}, {{ 1/0 }}), so
        # any exception there is bad input at this block, not a bug in wf: report it.
        message = f"template error: {type(exc).__name__}: {exc}"
        raise PlanError(message, source.file, source.line) from exc


def _collect(chunks: Iterable[str]) -> str:
    """Join a render's output, stopping at ``MAX_OUTPUT_CHARS`` or ``MAX_SECONDS``."""
    deadline = time.monotonic() + MAX_SECONDS
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise TemplateLimit(f"its output exceeds {MAX_OUTPUT_CHARS >> 20} MiB")
        if time.monotonic() > deadline:
            raise TemplateLimit(_too_long())
        parts.append(chunk)
    return "".join(parts)


def _too_long() -> str:
    return f"it ran longer than {MAX_SECONDS:g}s"


def _on_alarm(_signum: int, _frame: object) -> None:
    raise TemplateLimit(_too_long())


@contextlib.contextmanager
def _time_limit() -> Iterator[None]:
    """Interrupt a render after ``MAX_SECONDS`` (main thread: a loop yielding nothing
    is stopped too); a timer set by someone else is re-armed with its remaining time."""
    if threading.current_thread() is not threading.main_thread():
        yield  # elsewhere ``_collect`` and the sandbox hooks watch the clock
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    start = time.monotonic()
    try:
        old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, MAX_SECONDS)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    if old_delay:
        left = max(old_delay - (time.monotonic() - start), 0.001)
        signal.setitimer(signal.ITIMER_REAL, left, old_interval)


@contextlib.contextmanager
def _memory_limit() -> Iterator[None]:
    """Cap the address space at its current size plus ``MAX_MEMORY`` while rendering."""
    try:
        import resource

        with open("/proc/self/statm") as statm:  # noqa: PTH123 (hot path: no pathlib)
            in_use = int(statm.read().split()[0]) * resource.getpagesize()
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        yield  # not Linux: time and output limits only
        return
    cap = in_use + MAX_MEMORY
    if soft != resource.RLIM_INFINITY and soft <= cap:
        yield
        return
    resource.setrlimit(
        resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard)
    )
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def loader_environment(templates: Mapping[str, str]) -> SandboxedEnvironment:
    """An environment whose ``{% import %}``/``{% include %}`` see the given templates."""
    import jinja2

    return _new_environment(jinja2.DictLoader(dict(templates)))


@cache
def _environment(_: None) -> SandboxedEnvironment:
    return _new_environment(None)


def _new_environment(loader: Any) -> SandboxedEnvironment:
    import jinja2

    env = _bounded_class()(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        optimized=False,  # no constant folding: it would run filters outside the limits
    )
    env.filters = {name: _at_render_time(f) for name, f in env.filters.items()}
    return env


def _at_render_time(func: Any) -> Any:
    """``func`` as a filter jinja never runs while compiling (it folds constant filter
    calls into the code, out of reach of the limits, unless they take the context)."""
    from jinja2 import pass_context
    from jinja2.utils import _PassArg

    passed = _PassArg.from_obj(func)

    @pass_context
    def run(context: Context, *args: Any, **kwargs: Any) -> Any:
        if passed is _PassArg.context:
            return func(context, *args, **kwargs)
        if passed is _PassArg.eval_context:
            return func(context.eval_ctx, *args, **kwargs)
        if passed is _PassArg.environment:
            return func(context.environment, *args, **kwargs)
        return func(*args, **kwargs)

    return run


@cache
def _bounded_class() -> type[SandboxedEnvironment]:
    from jinja2.sandbox import SandboxedEnvironment

    class BoundedEnvironment(SandboxedEnvironment):
        """The sandbox, with ``**`` and ``*`` checked before they run."""

        intercepted_binops = frozenset({"**", "*"})

        def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
            check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

    return BoundedEnvironment


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``a ** b`` and ``a * b`` whose result would be too big to compute."""
    if operator == "**" and _is_int(left) and _is_int(right):
        bits = abs(right) * math.log2(abs(left)) if abs(left) > 1 and right > 0 else 0
        if bits > MAX_INT_BITS:
            raise TemplateLimit(f"{left} ** {right} has more than {MAX_INT_BITS} bits")
    elif operator == "*" and _is_int(left) and _is_int(right):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TemplateLimit(f"a product of more than {MAX_INT_BITS} bits")
    elif operator == "*":
        sequence, times = (left, right) if _is_int(right) else (right, left)
        if _is_int(times) and hasattr(sequence, "__len__") and len(sequence) * times > MAX_ITEMS:
            raise TemplateLimit(f"repeating {len(sequence)} items {times} times")


def _is_int(value: Any) -> bool:
    return isinstance(value, int)
