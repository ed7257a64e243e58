"""The import rules drawn in docs/architecture.md, checked on the source: an arrow that is not drawn is never
written."""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imports_of(package: str) -> dict[str, set[str]]:
    """module path → the top-level packages it imports (relative imports resolved to their package)."""
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names.add(package if node.level else (node.module or "").split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("package, forbidden", [
    ("mappings", {"syncs", "sandboxes", "demo", "integration_hub"}),
    ("syncs", {"sandboxes", "demo"}),
    ("integration_hub", {"sandboxes", "demo"}),
    ("sandboxes", {"syncs", "mappings", "integration_hub", "demo"}),
])
def test_it_keeps_each_part_to_the_imports_it_may_make(package, forbidden):
    offending = {module: sorted(names & forbidden) for module, names in imports_of(package).items() if names & forbidden}
    assert offending == {}


def test_no_code_outside_the_catalog_compares_a_job_name_to_a_literal():
    pattern = re.compile(r"""(==|!=|\bin\b)\s*\(?\s*["'](push|pull)_[a-z_]+["']|name\.startswith\(["'](push|pull)_""")
    offending = []
    for package in ("syncs", "mappings", "integration_hub"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "catalog.py" or "migrations" in path.parts:
                continue
            offending += [f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(path.read_text().splitlines(), 1)
                          if pattern.search(line)]
    assert offending == []
