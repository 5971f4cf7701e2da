"""Which modules a `retrain` command imports when it runs, read from the source (no import).

A step that runs in the pipeline image has only what the image installs, and most of this
project's third-party imports are lazy (inside functions), so importing the command's modules
proves little. This walks the command instead: the handler the parser binds to it, every
function it calls that resolves statically (a function of its module, a name imported from a
project module, `Class.method`), the module-level imports of every project module reached, and
the modules it starts with `PipelineEnv.run_module("pipelines....")` (all of their imports: they
are pipeline code, whole). Imports under `if TYPE_CHECKING:` are skipped. Calls through an
object (`env.run_module`, `plan.compile_options()`) are not followed: a rehearsal that runs the
step covers them.
"""

from __future__ import annotations

import argparse
import ast
import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROJECT = ("retrain", "pipelines")


def module_path(module: str) -> Path | None:
    parts = module.split(".")
    if parts[0] not in PROJECT:
        return None
    base = (REPO / "src" if parts[0] == "retrain" else REPO).joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package(module: str) -> str:
    path = module_path(module)
    return module if path is not None and path.name == "__init__.py" else module.rpartition(".")[0]


def _walk_runtime(node: ast.AST) -> Iterator[ast.AST]:
    """ast.walk without the bodies of `if TYPE_CHECKING:` (never run)."""
    if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
        for stmt in node.orelse:
            yield from _walk_runtime(stmt)
        return
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _walk_runtime(child)


@dataclass
class _Module:
    name: str
    tree: ast.Module
    # local name -> (module, attribute or "") for names bound by imports
    bound: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, name: str) -> _Module:
        path = module_path(name)
        assert path is not None, name
        module = cls(name, ast.parse(path.read_text()))
        for node in _walk_runtime(module.tree):
            for imported, attr, local in _imports(node, _package(name)):
                module.bound[local] = (imported, attr)
        return module

    def definition(self, name: str) -> ast.AST | None:
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
                return node
        return None


def _imports(node: ast.AST, package: str) -> list[tuple[str, str, str]]:
    """(module, attribute, local name) for each name an import statement binds."""
    if isinstance(node, ast.Import):
        return [(a.name, "", (a.asname or a.name).split(".")[0]) for a in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            source = ".".join([*base, *([node.module] if node.module else [])])
        else:
            source = node.module or ""
        return [(source, a.name, a.asname or a.name) for a in node.names]
    return []


@dataclass
class StepImports:
    """The modules a command imports: `project` (retrain.*, pipelines.*) and `third_party`."""

    project: set[str] = field(default_factory=set)
    third_party: set[str] = field(default_factory=set)
    _modules: dict[str, _Module] = field(default_factory=dict)
    _functions: set[tuple[str, str]] = field(default_factory=set)

    def _module(self, name: str) -> _Module | None:
        if module_path(name) is None:
            return None
        if name not in self._modules:
            self._modules[name] = _Module.load(name)
            self.add_module(name)
        return self._modules[name]

    def add_import(self, module: str, attr: str = "") -> None:
        if module.split(".")[0] not in PROJECT:
            if module != "__future__":
                self.third_party.add(module)
            return
        if attr and module_path(f"{module}.{attr}") is not None:
            self.add_module(f"{module}.{attr}")
        self.add_module(module)

    def add_module(self, name: str, whole: bool = False) -> None:
        """A project module imported: its packages and its module-level imports run; `whole`:
        every import in it (a module run as a program)."""
        if name in self.project and not whole:
            return
        self.project.add(name)
        parts = name.split(".")
        for i in range(1, len(parts)):
            self.add_module(".".join(parts[:i]))
        module = self._module(name)
        if module is None:
            return
        body = list(_walk_runtime(module.tree)) if whole else module.tree.body
        for node in body:
            for imported, attr, _ in _imports(node, _package(name)):
                self.add_import(imported, attr)

    def add_function(self, module_name: str, qualname: str) -> None:
        if (module_name, qualname) in self._functions:
            return
        self._functions.add((module_name, qualname))
        module = self._module(module_name)
        if module is None:
            return
        node: ast.AST = module.tree
        for part in qualname.split("."):
            found = next(
                (
                    n
                    for n in ast.iter_child_nodes(node)
                    if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name == part
                ),
                None,
            )
            if found is None:
                return
            node = found
        local: dict[str, tuple[str, str]] = {}
        for inner in _walk_runtime(node):
            for imported, attr, name in _imports(inner, _package(module_name)):
                self.add_import(imported, attr)
                local[name] = (imported, attr)
        for inner in _walk_runtime(node):
            if not isinstance(inner, ast.Call):
                continue
            self._follow_call(module, local, inner)

    def _follow_call(
        self, module: _Module, local: dict[str, tuple[str, str]], call: ast.Call
    ) -> None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "run_module":
            if call.args and isinstance(call.args[0], ast.Constant):
                self.add_module(str(call.args[0].value), whole=True)
            return
        name, method = "", ""
        if isinstance(func, ast.Name):
            name = func.id
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            name, method = func.value.id, func.attr
        if not name:
            return
        target = local.get(name) or module.bound.get(name)
        if target is not None:
            source, attr = target
            if source.split(".")[0] in PROJECT and attr:
                where = source
                qual = attr
            else:
                return
        elif module.definition(name) is not None:
            where, qual = module.name, name
        else:
            return
        self.add_function(where, qual)
        if method:
            self.add_function(where, f"{qual}.{method}")
        defined = self._module(where)
        if defined is not None and isinstance(defined.definition(qual), ast.ClassDef):
            self.add_function(where, f"{qual}.__init__")


def command_imports(parser: argparse.ArgumentParser, argv: list[str], entry: str) -> StepImports:
    """The modules `entry` (the console script's module) imports running `argv`."""
    handler = inspect.unwrap(parser.parse_args(argv).handler)
    found = StepImports()
    found.add_module(entry)
    found.add_function(handler.__module__, handler.__qualname__)
    return found
