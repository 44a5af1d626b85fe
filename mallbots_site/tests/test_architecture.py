"""Module boundaries (architecture.md §4, ADR 14): the import-linter contracts hold and cover every app module."""

import configparser
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def contracts() -> list[configparser.SectionProxy]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return [config[name] for name in config.sections() if name.startswith("importlinter:contract:")]


def listed(value: str) -> list[str]:
    return value.split()


def test_module_boundaries_hold():
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_module_of_an_app_but_public_and_contracts_is_protected():
    """A new module in an app is private to the app until its protected contract names it."""
    [app_layers] = [c for c in contracts() if c["type"] == "layers" and "containers" in c]
    apps = listed(app_layers["containers"])
    protected = {module: listed(c["allowed_importers"])
                 for c in contracts() if c["type"] == "protected" for module in listed(c["protected_modules"])}
    assert apps
    for app in apps:
        for child in pkgutil.iter_modules([str(ROOT / app)]):
            if child.name not in ("public", "contracts", "tests"):
                assert protected.get(f"{app}.{child.name}") == [app, "mallbots_site", "*.tests"], f"{app}.{child.name}"
