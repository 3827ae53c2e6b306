"""Planning in memory (DESIGN §2 modes, templating, generate): no disk writes involved."""

from __future__ import annotations

import pytest

from runner.errors import PathError, PlanError
from runner.patch import PatchFailed, apply_patch, patch_target
from runner.plan import Plan, make_plan
from runner.project import load_set

from .helpers import block, line_of, md, write_project


def plan_of(tmp_path, steps, wf_yaml=None, overrides=None) -> Plan:
    root = write_project(tmp_path, steps, wf_yaml=wf_yaml)
    wset = load_set(root, "demo")
    return make_plan(wset.name, wset.steps(), wset.vars, overrides)


def plan_error(tmp_path, steps, error=PlanError, **kwargs):
    with pytest.raises(error) as info:
        plan_of(tmp_path, steps, **kwargs)
    return info.value


def step_files(plan: Plan, number: str) -> dict[str, str]:
    for sp in plan.steps:
        if sp.step.number == number:
            return {p: f.content.decode() for p, f in sp.files.items()}
    raise AssertionError(number)


def assembled(plan: Plan, upto: str | None = None) -> dict[str, str]:
    return {p: f.content.decode() for p, f in plan.assembled(upto).items()}


# --- write ---------------------------------------------------------------------------


def test_write_and_step_folders(tmp_path):
    plan = plan_of(
        tmp_path,
        {
            "01_setup.md": "# S\n\n"
            + block("python path=app/main.py", "A = 1\n")
            + block("toml path=pyproject.toml", "[project]\n"),
            "02_more.md": "# M\n\n" + block("python path=app/other.py", "B = 2\n"),
        },
    )
    assert step_files(plan, "01") == {"app/main.py": "A = 1\n", "pyproject.toml": "[project]\n"}
    assert step_files(plan, "02") == {"app/other.py": "B = 2\n"}
    assert list(plan.outputs()) == [
        "01-setup/app/main.py",
        "01-setup/pyproject.toml",
        "02-more/app/other.py",
    ]
    assert assembled(plan) == {
        "app/main.py": "A = 1\n",
        "app/other.py": "B = 2\n",
        "pyproject.toml": "[project]\n",
    }
    assert assembled(plan, "01") == step_files(plan, "01")


def test_two_writes_to_one_path_in_one_step(tmp_path):
    text = (
        "# S\n\n" + block("python path=a.py", "one\n") + "\n" + block("python file=./a.py", "2\n")
    )
    error = plan_error(tmp_path, {"01_s.md": text})
    first, second = line_of(text, "path=a.py"), line_of(text, "file=./a.py")
    assert error.line == second
    assert f"line {first}" in error.message
    assert "a.py" in error.message and "twice" in error.message
    assert error.file.name == "01_s.md"


def test_later_step_rewrites_a_file(tmp_path):
    plan = plan_of(
        tmp_path,
        {
            "01_a.md": block("python path=cfg.py", "V = 1\n"),
            "02_b.md": block("python path=cfg.py", "V = 2\n"),
        },
    )
    assert step_files(plan, "01") == {"cfg.py": "V = 1\n"}
    assert step_files(plan, "02") == {"cfg.py": "V = 2\n"}
    assert assembled(plan) == {"cfg.py": "V = 2\n"}
    assert assembled(plan, "01") == {"cfg.py": "V = 1\n"}


# --- append --------------------------------------------------------------------------


def test_append_builds_on_the_file_so_far(tmp_path):
    plan = plan_of(
        tmp_path,
        {
            "01_a.md": block("text path=req.txt", "fastapi\n")
            + block("text path=req.txt mode=append", "uvicorn\n"),
            "02_b.md": block("text path=req.txt mode=append", "redis\n")
            + block("text path=new.txt mode=append", "created\n"),
        },
    )
    assert step_files(plan, "01") == {"req.txt": "fastapi\nuvicorn\n"}
    assert step_files(plan, "02") == {
        "req.txt": "fastapi\nuvicorn\nredis\n",
        "new.txt": "created\n",
    }
    sources = plan.steps[1].files["req.txt"].sources
    assert [s.line for s in sources] == [1]


def test_append_adds_a_newline_when_the_file_lacks_one(tmp_path):
    steps = {
        "01_a.md": "# A\n\n```text\n# path: a.txt\nno newline\n```\n",
        "02_b.md": block("text path=a.txt mode=append", "second\n"),
    }
    plan = plan_of(tmp_path, steps)
    assert step_files(plan, "02")["a.txt"] == "no newline\nsecond\n"


def test_append_in_a_build_always_appends(tmp_path):
    # A document that appends a line the file already has means it: the build obeys.
    plan = plan_of(
        tmp_path,
        {
            "01_a.md": block("text path=req.txt", "fastapi\nuvicorn\n"),
            "02_b.md": block("text path=req.txt mode=append", "uvicorn\n"),
        },
    )
    assert step_files(plan, "02") == {"req.txt": "fastapi\nuvicorn\nuvicorn\n"}


def test_append_onto_a_project_is_skipped_when_its_lines_are_present(tmp_path):
    root = write_project(tmp_path, {"01_b.md": block("text path=req.txt mode=append", "uvicorn\n")})
    wset = load_set(root, "demo")
    again = make_plan("demo", wset.steps(), base={"req.txt": "fastapi\nuvicorn\nredis\n"})
    assert again.steps[0].files["req.txt"].content == b"fastapi\nuvicorn\nredis\n"


# --- patch ---------------------------------------------------------------------------

MAIN = "import os\n\n\ndef main():\n    return 1\n"


def _patch_steps(diff: str, base: str = MAIN) -> dict[str, str]:
    return {
        "01_a.md": "# A\n\n" + block("python path=app/main.py", base),
        "02_b.md": "# B\n\nPatch it:\n\n" + block("diff path=app/main.py mode=patch", diff),
    }


def test_patch_applies(tmp_path):
    diff = (
        "--- a/app/main.py\n+++ b/app/main.py\n@@ -1,5 +1,6 @@\n import os\n+import sys\n"
        " \n \n def main():\n-    return 1\n+    return 2\n"
    )
    plan = plan_of(tmp_path, _patch_steps(diff))
    assert step_files(plan, "02") == {
        "app/main.py": "import os\nimport sys\n\n\ndef main():\n    return 2\n"
    }
    assert step_files(plan, "01") == {"app/main.py": MAIN}


def test_patch_applies_with_offset(tmp_path):
    base = "# header 1\n# header 2\n# header 3\n" + MAIN
    diff = "@@ -4,2 +4,2 @@\n def main():\n-    return 1\n+    return 42\n"
    plan = plan_of(tmp_path, _patch_steps(diff, base))
    assert step_files(plan, "02")["app/main.py"] == base.replace("return 1", "return 42")


def test_patch_multiple_hunks(tmp_path):
    base = "".join(f"line {i}\n" for i in range(1, 21))
    diff = "@@ -2,1 +2,1 @@\n-line 2\n+LINE 2\n@@ -15,2 +15,3 @@\n line 15\n+inserted\n line 16\n"
    plan = plan_of(tmp_path, _patch_steps(diff, base))
    expected = base.replace("line 2\n", "LINE 2\n").replace("line 15\n", "line 15\ninserted\n")
    assert step_files(plan, "02")["app/main.py"] == expected


def test_patch_that_does_not_apply(tmp_path):
    diff = (
        "@@ -1,1 +1,1 @@\n-import os\n+import re\n@@ -4,2 +4,2 @@\n def nope():\n-    x\n+    y\n"
    )
    steps = _patch_steps(diff)
    error = plan_error(tmp_path, steps)
    assert error.file.name == "02_b.md"
    assert error.line == line_of(steps["02_b.md"], "mode=patch")
    assert "patch does not apply" in error.message
    assert "app/main.py" in error.message
    assert "hunk 2" in error.message
    assert str(error).endswith(error.message)
    assert f"02_b.md:{error.line}: patch does not apply" in str(error)


def test_patch_to_a_missing_file(tmp_path):
    steps = {
        "01_a.md": "# A\n\n" + block("diff path=absent.py mode=patch", "@@ -1 +1 @@\n-a\n+b\n")
    }
    error = plan_error(tmp_path, steps)
    assert "absent.py" in error.message and "does not exist" in error.message
    assert error.line == 3


def test_patch_naming_another_file(tmp_path):
    diff = "--- a/other.py\n+++ b/other.py\n@@ -1 +1 @@\n-import os\n+import re\n"
    error = plan_error(tmp_path, _patch_steps(diff))
    assert "other.py" in error.message and "app/main.py" in error.message


def test_patch_without_hunks(tmp_path):
    error = plan_error(tmp_path, _patch_steps("just some text\n"))
    assert "no hunks" in error.message


def test_patch_unit_behaviour():
    assert patch_target("--- a/x.py\n+++ b/y/z.py\t2024\n@@ -1 +1 @@\n") == "y/z.py"
    assert patch_target("@@ -1 +1 @@\n-a\n+b\n") is None
    assert apply_patch("a\nb\n", "@@ -2 +2 @@\n-b\n+c\n\\ No newline at end of file\n") == "a\nc"
    assert apply_patch("a\n", "@@ -0,0 +1 @@\n+z\n") == "z\na\n"
    with pytest.raises(PatchFailed, match="hunk 1"):
        apply_patch("a\n", "@@ -1 +1 @@\n-q\n+r\n")
    with pytest.raises(PatchFailed):
        apply_patch("a\n", "@@ -1 +1 @@\n?bad\n")


# --- skeleton ------------------------------------------------------------------------


def test_skeleton_is_marked(tmp_path):
    plan = plan_of(
        tmp_path,
        {
            "01_a.md": block("python path=settings.py skeleton", "X = 1\n")
            + block("python path=main.py", "M\n")
        },
    )
    files = plan.steps[0].files
    assert files["settings.py"].skeleton is True
    assert files["main.py"].skeleton is False
    assert files["settings.py"].content == b"X = 1\n"


# --- templating ----------------------------------------------------------------------

GHA = "name: ci\non: push\njobs:\n  t:\n    env:\n      TOKEN: ${{ secrets.TOKEN }}\n"


def test_templating_is_opt_in_per_block(tmp_path):
    steps = {
        "01_a.md": "---\nvars:\n  name: shop\n---\n# A\n\n"
        + block('toml path="{{ name }}.toml" template', 'name = "{{ name }}"\n')
        + block("yaml path=.github/workflows/ci.yml", GHA)
        + block("jinja path=raw.j2", "{{ name }} {% if x %}y{% endif %}\n"),
    }
    files = step_files(plan_of(tmp_path, steps), "01")
    assert files == {
        "shop.toml": 'name = "shop"\n',
        ".github/workflows/ci.yml": GHA,
        "raw.j2": "{{ name }} {% if x %}y{% endif %}\n",
    }


def test_templating_per_step(tmp_path):
    steps = {
        "01_a.md": "---\ntemplate: true\nvars:\n  name: shop\n  port: 8080\n---\n"
        + block("python path=app/{{name}}.py", "PORT = {{ port }}\n")
        + block("text path=b.txt", "{{ name }}-{{ port }}\n"),
    }
    assert step_files(plan_of(tmp_path, steps), "01") == {
        "app/shop.py": "PORT = 8080\n",
        "b.txt": "shop-8080\n",
    }


def test_undefined_variable_is_an_error_at_the_block(tmp_path):
    text = "---\nvars:\n  a: 1\n---\n# A\n\n" + block(
        "text path=x.txt template", "{{ a }}{{ b }}\n"
    )
    error = plan_error(tmp_path, {"01_a.md": text})
    assert error.line == line_of(text, "path=x.txt")
    assert "'b'" in error.message and "undefined" in error.message


def test_template_syntax_error_line(tmp_path):
    text = "# A\n\n" + block("text path=x.txt template", "ok\nstill ok\n{% if %}\n")
    error = plan_error(tmp_path, {"01_a.md": text})
    assert "syntax" in error.message
    assert error.line == line_of(text, "{% if %}")


def test_templates_are_sandboxed(tmp_path):
    text = block("text path=x.txt template", "{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    error = plan_error(tmp_path, {"01_a.md": text})
    assert error.line == 1


@pytest.mark.parametrize(
    ("set_vars", "step_vars", "overrides", "expected"),
    [
        ("vars: {x: set}\n", "", None, "set"),
        ("vars: {x: set}\n", "vars: {x: step}\n", None, "step"),
        ("vars: {x: set}\n", "vars: {x: step}\n", {"x": "cli"}, "cli"),
        (None, "", {"x": "cli"}, "cli"),
    ],
)
def test_variable_precedence(tmp_path, set_vars, step_vars, overrides, expected):
    front = f"---\n{step_vars}---\n" if step_vars else ""
    steps = {"01_a.md": front + "# A\n\n" + block("text path=x.txt template", "{{ x }}\n")}
    plan = plan_of(tmp_path, steps, wf_yaml=set_vars, overrides=overrides)
    assert step_files(plan, "01") == {"x.txt": f"{expected}\n"}


def test_step_vars_do_not_leak_into_other_steps(tmp_path):
    steps = {
        "01_a.md": "---\nvars: {x: one}\n---\n" + block("text path=a.txt template", "{{ x }}\n"),
        "02_b.md": block("text path=b.txt template", "{{ x }}\n"),
    }
    error = plan_error(tmp_path, steps)
    assert error.file.name == "02_b.md"


# --- generate ------------------------------------------------------------------------


def _generator(front: str, extra: str = "") -> dict[str, str]:
    return {
        "01_base.md": "# Base\n\n" + block("python path=app/routes.py", "ROUTES = []\n"),
        "02_module.md": front
        + "# Module\n\n"
        + block(
            "jinja path=tpl/_macros.j2",
            "{% macro header(m) %}# module {{ m }}{% endmacro %}\n",
        )
        + block(
            "jinja path=tpl/app/{{module}}/models.py.j2",
            '{% import "_macros.j2" as mac %}{{ mac.header(module) }}\n'
            'NAME = "{{ module }}"\nPREFIX = "{{ prefix }}"\n',
        )
        + block("jinja path=tpl/app/routes.py.append.j2", 'ROUTES.append("{{ module }}")\n')
        + block("text path=tpl/README.txt", "not a template\n")
        + extra,
    }


GEN_FRONT = md(
    """
    ---
    vars:
      prefix: /api
    generate:
      templates: tpl
      instances:
        - module: users
        - module: items
          prefix: /v2
    ---
    """
)


def test_generate_renders_each_instance(tmp_path):
    plan = plan_of(tmp_path, _generator(GEN_FRONT))
    files = step_files(plan, "02")
    assert files["app/users/models.py"] == '# module users\nNAME = "users"\nPREFIX = "/api"\n'
    assert files["app/items/models.py"] == '# module items\nNAME = "items"\nPREFIX = "/v2"\n'
    assert files["app/routes.py"] == 'ROUTES = []\nROUTES.append("users")\nROUTES.append("items")\n'
    assert "app/_macros" not in " ".join(files)
    assert "README.txt" not in " ".join(p for p in files if not p.startswith("tpl/"))
    assert {p for p in files if p.startswith("tpl/")} == {
        "tpl/_macros.j2",
        "tpl/app/{{module}}/models.py.j2",
        "tpl/app/routes.py.append.j2",
        "tpl/README.txt",
    }
    sources = plan.steps[1].files["app/users/models.py"].sources
    expected = line_of(_generator(GEN_FRONT)["02_module.md"], "models.py.j2")
    assert [s.line for s in sources] == [expected]


def test_generate_var_override_replaces_instances(tmp_path):
    plan = plan_of(tmp_path, _generator(GEN_FRONT), overrides={"module": "orders"})
    files = step_files(plan, "02")
    generated = {p for p in files if p.startswith("app/") and p.endswith("models.py")}
    assert generated == {"app/orders/models.py"}
    assert files["app/orders/models.py"].endswith('PREFIX = "/api"\n')
    assert files["app/routes.py"] == 'ROUTES = []\nROUTES.append("orders")\n'


def test_generate_unrelated_override_keeps_instances(tmp_path):
    front = "---\ngenerate:\n  templates: tpl\n  instances: [{module: a}, {module: b}]\n---\n"
    plan = plan_of(tmp_path, _generator(front), overrides={"prefix": "/x"})
    files = step_files(plan, "02")
    assert files["app/a/models.py"].endswith('PREFIX = "/x"\n')
    assert files["app/b/models.py"].endswith('PREFIX = "/x"\n')


def test_generate_instances_rendering_to_the_same_path(tmp_path):
    front = (
        "---\nvars: {prefix: p}\ngenerate:\n  templates: tpl\n"
        "  instances: [{module: a}, {module: a}]\n---\n"
    )
    error = plan_error(tmp_path, _generator(front))
    assert "twice" in error.message


def test_generate_missing_instance_variable(tmp_path):
    front = "---\ngenerate:\n  templates: tpl\n  instances:\n    - {module: a}\n---\n"
    error = plan_error(tmp_path, _generator(front))
    assert "prefix" in error.message
    assert error.file.name == "02_module.md"


def test_generate_without_templates(tmp_path):
    front = "---\ngenerate:\n  templates: nothing-here\n  instances: [{module: a}]\n---\n"
    error = plan_error(tmp_path, _generator(front))
    assert "nothing-here" in error.message


def test_generate_from_templates_of_an_earlier_step(tmp_path):
    steps = {
        "01_tpl.md": block("jinja path=tpl/{{name}}.txt.j2", "hello {{ name }}\n"),
        "02_gen.md": "---\ngenerate:\n  templates: tpl\n  instances: [{name: bob}]\n---\n# G\n",
    }
    plan = plan_of(tmp_path, steps)
    assert step_files(plan, "02") == {"bob.txt": "hello bob\n"}


def test_generated_path_is_confined(tmp_path):
    with pytest.raises(PathError):
        plan_of(tmp_path, _generator(GEN_FRONT), overrides={"module": "../../evil"})


def test_already_applied_detection():
    from runner.patch import already_applied

    diff = "@@ -1,2 +1,3 @@\n a\n+new\n b\n"
    assert not already_applied("a\nb\n", diff)
    assert already_applied("a\nnew\nb\n", diff)
    end = "@@ -1 +1,2 @@\n a\n+z\n"
    assert not already_applied("a\n", end)
    assert already_applied("a\nz\n", end)
    assert not already_applied("a\nb\n", "@@ -1 +0,0 @@\n-a\n")


def test_patch_on_a_base_that_has_it_already(tmp_path):
    """``wf apply`` plans a step on the user's files; a patch applied before is skipped."""
    steps = {"01_a.md": block("diff path=m.py mode=patch", "@@ -1 +1,2 @@\n a = 1\n+b = 2\n")}
    root = write_project(tmp_path, steps)
    wset = load_set(root, "demo")
    once = make_plan("demo", wset.steps(), base={"m.py": "a = 1\n"})
    assert once.steps[0].files["m.py"].content == b"a = 1\nb = 2\n"
    again = make_plan("demo", wset.steps(), base={"m.py": "a = 1\nb = 2\n"})
    assert again.steps[0].files["m.py"].content == b"a = 1\nb = 2\n"
    assert again.steps[0].files["m.py"].derived is True


def test_append_idempotence_matches_whole_lines_only(tmp_path):
    root = write_project(
        tmp_path,
        {
            "01_b.md": block("text path=req.txt mode=append", "redis\n")
            + block("text path=req.txt mode=append", "api\n"),
        },
    )
    wset = load_set(root, "demo")
    again = make_plan("demo", wset.steps(), base={"req.txt": "types-redis\nfastapi\n"})
    assert again.steps[0].files["req.txt"].content == b"types-redis\nfastapi\nredis\napi\n"


@pytest.mark.parametrize(
    "steps",
    [
        {"01_a.md": block("text path=app", "f\n") + block("text path=app/x.py", "x\n")},
        {"01_a.md": block("text path=app/x.py", "x\n") + block("text path=app", "f\n")},
        {
            "01_a.md": block("text path=app/sub/x.py", "x\n"),
            "02_b.md": block("text path=app/sub mode=append", "f\n"),
        },
        {
            "01_a.md": block("text path=app", "f\n"),
            "02_b.md": block("text path=app/x.py", "x\n"),
        },
    ],
)
def test_a_path_cannot_be_both_file_and_folder(tmp_path, steps):
    error = plan_error(tmp_path, steps)
    assert "folder" in error.message
    assert error.line is not None
