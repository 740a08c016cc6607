"""The ground knows no app: config/ imports nothing from engagement, checkin, rewards or points_bridge,
so the apps can depend on it and not the other way round (settings and URL includes name apps by string)."""

import ast
from pathlib import Path

from django.conf import settings

APPS = {"engagement", "checkin", "rewards", "points_bridge"}


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_config_imports_no_app():
    offenders = {
        str(path.relative_to(settings.BASE_DIR)): sorted(m for m in imported_modules(path) if m.split(".")[0] in APPS)
        for path in (Path(settings.BASE_DIR) / "config").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
