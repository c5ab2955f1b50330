"""The layout holds: stages import down the pipeline, no cycles, small modules and functions.

Read from the source with `ast`, so every import counts, lazy ones inside
functions included (only `if TYPE_CHECKING:` blocks are left out: they never
run).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "driftcli"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 250


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str, *, for_types: bool = False) -> set[str]:
    """The driftcli modules `name` imports when it runs, lazily or not (`for_types`: and
    those it imports only for type checking)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node) and not for_types:
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    # Importing a module runs its packages' __init__ first, except the ones
    # this module sits in: they have started running before it.
    own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    resolved = set()
    for target in found:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):
            candidate = ".".join(parts[:i])
            if candidate in MODULES and candidate not in own:
                resolved.add(candidate)
    resolved.discard(name)
    return resolved


GRAPH = {name: imports_of(name) for name in MODULES}
TYPED_GRAPH = {name: imports_of(name, for_types=True) for name in MODULES}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of `graph`, as the nodes along it, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := walk(target)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for name in sorted(graph):
        if name not in state and (found := walk(name)) is not None:
            return found
    return None


def test_no_import_cycle() -> None:
    """Lazy imports count: a cycle through a function's import is still a cycle."""
    cycle = _cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_circle_of_files_even_through_type_annotations() -> None:
    """A circle that only type checking sees still ties the files: neither can be read,
    changed or moved without the other (a protocol in a lower module breaks it)."""
    cycle = _cycle(TYPED_GRAPH)
    assert cycle is None, "files in a circle: " + " -> ".join(cycle or [])


def package_of(module: str) -> str:
    """`driftcli.store.window` -> `driftcli.store`; a top-level module is its own package."""
    parts = module.split(".")
    return (
        ".".join(parts[:2]) if len(parts) > 2 or MODULES[module].name == "__init__.py" else module
    )


def test_no_package_cycle() -> None:
    """Packages form layers: none imports a package that imports it back, through any
    module, for types included."""
    packages: dict[str, set[str]] = {}
    for module, targets in TYPED_GRAPH.items():
        here = package_of(module)
        packages.setdefault(here, set()).update(package_of(t) for t in targets)
    for here, targets in packages.items():
        targets.discard(here)
    cycle = _cycle(packages)
    assert cycle is None, "packages in a cycle: " + " -> ".join(cycle or [])


def reachable(start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in GRAPH[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


@pytest.mark.parametrize("stage", ["inputs", "columns", "reference", "counting", "scoring", "store",
                                   "engine", "output"])  # fmt: skip
def test_stages_never_import_the_library_api_or_the_cli(stage: str) -> None:
    modules = [m for m in MODULES if m == f"driftcli.{stage}" or m.startswith(f"driftcli.{stage}.")]
    for module in modules:
        upward = {m for m in reachable(module) if m.startswith(("driftcli.api", "driftcli.cli"))}
        assert not upward, f"{module} imports {sorted(upward)}"


def test_the_api_never_imports_the_cli_or_the_renderers() -> None:
    for module in (m for m in MODULES if m.startswith("driftcli.api")):
        wrong = {m for m in reachable(module) if m.startswith(("driftcli.cli", "driftcli.output"))}
        assert not wrong, f"{module} imports {sorted(wrong)}"


def test_renderers_write_public_json_never_the_store_s_encodings() -> None:
    """docs/json.md is its own schema: a store file's format may change without it."""
    for module in (m for m in MODULES if m.startswith("driftcli.output")):
        tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
        taken = {
            (node.module, alias.name)
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("driftcli.store")
            for alias in node.names
        }
        wrong = {t for t in taken if t[0] == "driftcli.store.codec" or t[1].startswith("encode")}
        assert not wrong, f"{module} imports {sorted(wrong)}"


def test_light_modules_import_nothing_heavy() -> None:
    """settings, choices, results and config are read by the CLI before the stages load."""
    code = (
        "import sys, driftcli.settings, driftcli.choices, driftcli.results, driftcli.config;"
        "heavy = {'numpy', 'pyarrow', 'rich'} & set(sys.modules);"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_help_imports_no_numeric_library() -> None:
    code = (
        "import sys;"
        "from driftcli.cli import app;"
        "sys.argv = ['driftcli', '--help'];"
        "import contextlib;"
        "exec('try:\\n    app()\\nexcept SystemExit:\\n    pass');"
        "heavy = {'numpy', 'pyarrow', 'scipy', 'dask', 'distributed'} & set(sys.modules);"
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Usage: driftcli" in result.stdout


def test_modules_are_at_most_500_lines() -> None:
    long = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, long


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> int:
    """Lines of the body, its docstring and a Typer command's parameter list left out."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if not body:
        return 0
    assert body[-1].end_lineno is not None
    return body[-1].end_lineno - body[0].lineno + 1


def test_functions_and_classes_are_small() -> None:
    big: list[str] = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if _body_lines(node) > MAX_FUNCTION_LINES:
                    big.append(f"{name}.{node.name}: {_body_lines(node)} lines")
            elif isinstance(node, ast.ClassDef):
                lines = (node.end_lineno or 0) - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    big.append(f"{name}.{node.name} (class): {lines} lines")
    assert not big, big


def test_no_assert_guards_data_in_the_package() -> None:
    """`python -O` removes asserts: they must not stand between bad data and a crash."""
    found = [
        f"{name}:{node.lineno}"
        for name, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assert)
    ]
    assert not found, found


GROUPING_KINDS = {
    "Grouping", "ByTime", "ByRows", "BySlice", "Chunking", "Chunker", "TimeChunker",
    "RowChunker", "SliceCounter",
}  # fmt: skip
"""The groupings and their counters."""
GROUPING_MODULES = ("driftcli.grouping", "driftcli.counting.chunking")
"""Where a grouping rule lives: its own module, and its chunker (each answers for itself)."""


def _kind_names(node: ast.expr) -> set[str]:
    """The names a class test's second argument or a `case` pattern names."""
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Attribute):
        return {node.attr}
    if isinstance(node, ast.Tuple):
        return set().union(*(_kind_names(e) for e in node.elts)) if node.elts else set()
    if isinstance(node, ast.BinOp):
        return _kind_names(node.left) | _kind_names(node.right)
    return set()


def _kind_tests(kinds: set[str], allowed: tuple[str, ...]) -> list[str]:
    """Where a module outside `allowed` tests which of `kinds` an object is (`isinstance`,
    `issubclass` or a `case` pattern)."""
    found = []
    for name, path in MODULES.items():
        if name.startswith(allowed):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            named: set[str] = set()
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in ("isinstance", "issubclass") and len(node.args) == 2:
                    named = _kind_names(node.args[1])
            elif isinstance(node, ast.MatchClass):
                named = _kind_names(node.cls)
            if named & kinds:
                found.append(f"{name}:{node.lineno}: {sorted(named & kinds)}")
    return found


def test_nothing_asks_which_kind_of_grouping_it_has() -> None:
    """Renderers, the library and the CLI ask a grouping what they need: a new grouping
    rule then touches its own module, not every renderer."""
    found = _kind_tests(GROUPING_KINDS, GROUPING_MODULES)
    assert not found, found


RESULT_KINDS = {"CheckResult", "Timeline", "SlicedCheck"}
"""The kinds of result a check gives (driftcli/report.py)."""


def test_only_report_py_asks_which_kind_of_result_it_has() -> None:
    """Formats, alerts, metrics and hooks ask a result what every kind answers
    (`deciding_check`, `labelled_checks`) or are a `Renderer` with a method per kind:
    a new kind of result is a new method, which mypy then asks of every renderer."""
    found = _kind_tests(RESULT_KINDS, ("driftcli.report",))
    assert not found, found


CLI_WORDING = (
    "driftcli/output/html/check.py",
    "driftcli/output/markdown.py",
    "driftcli/output/notes.py",
    "driftcli/output/table/check.py",
    "driftcli/output/table/history.py",
    "driftcli/output/table/timeline.py",
)
"""Renderers whose own words name the CLI's options (`(--only-failing)`, `--format json
has them all`, `driftcli history --keep 1000`): output/ renders the command line's
reports, and these texts are its wording, not a message of the library."""


def _command_flags() -> set[str]:
    """Every long option of every driftcli command, read from the Typer app."""
    import typer

    from driftcli.cli.app import app

    root = typer.main.get_command(app)
    commands = [root, *getattr(root, "commands", {}).values()]
    return {
        opt
        for command in commands
        for param in command.params  # arguments' names have no dashes
        for opt in (*param.opts, *param.secondary_opts)
        if opt.startswith("--")
    }


def _texts(tree: ast.Module) -> list[ast.Constant]:
    """The string constants of a module that are not docstrings (f-strings' parts too)."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            docstrings.add(id(node.value))  # a docstring, or a string standing alone
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]


_FLAG = r"(?<![\w-])(?<!var\()--[a-z][a-z0-9-]*(?![\w-])(?!:\s*(?:#|var\())"
"""`--min-rows`; not a CSS custom property (`--ref: #4c78a8`, `var(--ref)`)."""


def _spelt_flags(tree: ast.Module, flags: set[str]) -> list[tuple[int, str]]:
    import re

    return [
        (node.lineno, flag)
        for node in _texts(tree)
        for flag in re.findall(_FLAG, node.value)
        if flag in flags
    ]


def test_the_library_never_spells_a_flag() -> None:
    """A message of the library names a setting (`errors.option("min_rows")`); the CLI
    shows its flag (`--min-rows`). Only cli/ and the renderers' own wording spell one."""
    flags = _command_flags()
    root = PACKAGE.parent
    spelt = [
        f"{path.relative_to(root)}:{line}: {flag}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] != "cli"
        and str(path.relative_to(root)) not in CLI_WORDING
        for line, flag in _spelt_flags(ast.parse(path.read_text(encoding="utf-8")), flags)
    ]
    assert not spelt, "write errors.option(name) instead:\n" + "\n".join(spelt)


def test_the_rule_finds_a_spelt_flag() -> None:
    flags = _command_flags()
    assert {"--min-rows", "--max-line-bytes", "--keep", "--slice"} <= flags
    tree = ast.parse('"""--min-rows in a docstring"""\nx = f"fewer than --min-rows {n}"\n')
    assert _spelt_flags(tree, flags) == [(2, "--min-rows")]
    css = ast.parse('x = ":root { --ref: #4c78a8; --tone: var(--ref); } a { color: var(--ref); }"')
    assert _spelt_flags(css, flags) == []  # CSS custom properties are no flags


def test_every_setting_a_message_names_has_a_flag() -> None:
    """`option(name)` is shown as `--name` on the command line: it must be a real flag."""
    from driftcli.errors import flag_of

    flags = _command_flags()
    unknown = [
        f"{name}:{node.lineno}: {node.args[0].value}"
        for name, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "option"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and flag_of(str(node.args[0].value)) not in flags
    ]
    assert not unknown, unknown
