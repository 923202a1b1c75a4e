"""What a built function can import on Lambda: its own requirements, what the shared layer keeps,
and the SDK the python3.13 runtime provides (scripts/lambda_runtime_sdk.txt), which
scripts/finish_build.py removes from every artifact. These tests fail when code or a shipped
package would need something that is then in none of the three."""

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest
from finish_build import normalize, runtime_sdk
from packaging.markers import default_environment
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]

RUNTIME = runtime_sdk()
LAYER_DIR = ROOT / "layers" / "shared"
FUNCTION_DIRS = sorted(path for path in (ROOT / "functions").iterdir() if path.is_dir())
# Requirement markers as pip evaluates them for the Lambda python3.13 arm64 runtime.
LAMBDA_MARKERS = {
    **default_environment(),
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
}
_PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[([^\]]*)\])?==(\S+)$")


def pins(requirements: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """Canonical name -> (version, extras) of each ``name[extras]==version`` line."""
    found = {}
    for line in requirements.read_text().splitlines():
        match = _PIN.match(line.split("#", 1)[0].strip())
        if match:
            extras = frozenset(e.strip() for e in (match[2] or "").split(",") if e.strip())
            found[normalize(match[1])] = (match[3], extras)
    return found


LAYER_KEPT = {
    name: pin for name, pin in pins(LAYER_DIR / "requirements.txt").items() if name not in RUNTIME
}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_modules(tree: ast.AST, *, lazy: bool = True) -> set[str]:
    """Top-level names of the absolute imports (inside functions only if ``lazy``), leaving out
    those under ``if TYPE_CHECKING:``."""
    found: set[str] = set()
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            found |= {m for child in node.orelse for m in imported_modules(child, lazy=lazy)}
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not lazy:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        found |= imported_modules(node, lazy=lazy)
    return found


def third_party_imports(code_dir: Path, *, lazy: bool = True) -> set[str]:
    sources = list(code_dir.rglob("*.py"))
    local = {path.stem for path in code_dir.iterdir()}  # the package(s) the code folder holds
    local |= {path.name for path in LAYER_DIR.iterdir()}
    imported = set().union(
        *(imported_modules(ast.parse(path.read_text()), lazy=lazy) for path in sources)
    )
    return imported - local - set(sys.stdlib_module_names) - {"__future__"}


def shipped_with(function_dir: Path | None) -> dict[str, tuple[str, frozenset[str]]]:
    """What sits beside the code on Lambda: the function's own pins and the layer's kept ones."""
    own = pins(function_dir / "requirements.txt") if function_dir else {}
    return {**LAYER_KEPT, **own}


def imports_to_check(function_dir: Path | None) -> set[str]:
    """A function's own imports and what the layer imports at module scope. The layer's lazy
    imports serve the functions that ship the package (PyYAML: config_loader), so the layer is
    checked against every function's requirements for those."""
    layer_code = LAYER_DIR / "datalake_shared"
    if function_dir is None:
        return third_party_imports(layer_code, lazy=False)
    return third_party_imports(function_dir) | third_party_imports(layer_code, lazy=False)


def unmet_imports(
    modules: set[str], shipped: dict[str, tuple[str, frozenset[str]]]
) -> dict[str, list[str]]:
    """Module -> distributions installing it, for those neither shipped nor in the runtime."""
    providers = importlib.metadata.packages_distributions()
    return {
        module: providers.get(module, ["<not installed in the dev venv>"])
        for module in modules
        if not any(
            normalize(d) in shipped or normalize(d) in RUNTIME for d in providers.get(module, [])
        )
    }


CASES = [pytest.param(None, id="shared-layer")] + [
    pytest.param(path, id=path.name) for path in FUNCTION_DIRS
]


@pytest.mark.parametrize("function_dir", CASES)
def test_every_import_is_shipped_or_provided_by_the_runtime(function_dir: Path | None) -> None:
    # Given the code that runs in one function (its modules, lazy imports too, and the layer's)
    modules = imports_to_check(function_dir)

    # When each third-party module is traced to the distribution that installs it
    missing = unmet_imports(modules, shipped_with(function_dir))

    # Then each is shipped with the function, kept in the layer, or provided by the runtime
    assert missing == {}


def test_the_layers_lazy_imports_are_shipped_by_the_functions_that_need_them() -> None:
    # Given what the layer's code imports only inside functions
    lazy = third_party_imports(LAYER_DIR / "datalake_shared") - imports_to_check(None)

    # When traced to distributions / Then some function ships each (the one calling that code)
    every_function = {
        name: pin for path in FUNCTION_DIRS for name, pin in shipped_with(path).items()
    }
    assert unmet_imports(lazy, every_function) == {}


@pytest.mark.parametrize("function_dir", CASES)
def test_shipped_packages_need_only_shipped_ones_or_the_runtime_sdk(
    function_dir: Path | None,
) -> None:
    # Given the distributions a function ships (its own and the layer's, SDK removed)
    shipped = shipped_with(function_dir)
    unmet = []
    for name, (version, extras) in shipped.items():
        # The dev venv installs the same pins, so its metadata is the shipped package's.
        assert importlib.metadata.version(name) == version, f"make venv: {name} is not {version}"
        for text in importlib.metadata.requires(name) or []:
            requirement = Requirement(text)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({**LAMBDA_MARKERS, "extra": extra})
                for extra in extras | {""}
            )
            # When each requirement that applies on Lambda is looked up
            target = normalize(requirement.name)
            if not wanted or target in shipped:
                continue
            if target not in RUNTIME or not requirement.specifier.contains(
                RUNTIME[target], prereleases=True
            ):
                unmet.append(f"{name} needs {requirement} (runtime: {RUNTIME.get(target)})")

    # Then it is shipped too, or the runtime's pinned SDK has it at a version it accepts
    assert unmet == []


def test_the_build_removes_only_boto3_and_its_dependency_closure() -> None:
    # Given boto3's declared dependencies, followed transitively (extras such as crt left out)
    closure, todo = set(), ["boto3"]
    while todo:
        name = normalize(todo.pop())
        if name not in closure:
            closure.add(name)
            for text in importlib.metadata.requires(name) or []:
                requirement = Requirement(text)
                if requirement.marker is None or requirement.marker.evaluate(LAMBDA_MARKERS):
                    todo.append(requirement.name)

    # Then the runtime SDK list, which the build strips from every artifact, is exactly that:
    # anything else would be removed although no runtime provides it
    assert set(RUNTIME) == closure
