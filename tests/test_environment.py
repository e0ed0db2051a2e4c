"""pyproject.toml, environment.yml and requirements.lock must describe one environment."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    pins = {}
    for text in reqs:
        req = Requirement(text)
        spec = list(req.specifier)
        assert len(spec) == 1 and spec[0].operator == "==", f"pyproject: {text} is not pinned"
        pins[canonicalize_name(req.name)] = spec[0].version
    return pins


def environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for text in dep["pip"]:
                if not text.startswith("-e"):
                    name, version = text.split("==")
                    pins[canonicalize_name(name)] = version
        elif "=" in dep:
            name, version = dep.split("=", 1)
            pins[canonicalize_name(name)] = version
    return pins


def lock_pins() -> dict[str, str]:
    """The lock's versions for this interpreter (markers evaluated)."""
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)\s*(?:;\s*(.+))?$", line)
        if m and (m.group(3) is None or Marker(m.group(3)).evaluate()):
            pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins


def test_pyproject_and_environment_pin_the_same_versions():
    project, env = pyproject_pins(), environment_pins()
    assert set(project) == set(env) - {"python", "pip"}
    assert {k: env[k] for k in project} == project


def test_lock_holds_every_pin_at_the_same_version():
    project, lock = pyproject_pins(), lock_pins()
    missing = sorted(set(project) - set(lock))
    assert not missing, f"requirements.lock lacks {missing}: run `make lock`"
    assert {k: lock[k] for k in project} == project


def test_environment_python_matches_requires_python():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python.split("=")[1] >= requires.lstrip(">=")
    assert sys.version_info >= (3, 11)
