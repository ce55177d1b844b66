"""The install is pinned: constraints.txt fixes a version for every direct dependency (core and
the dev and local-llm extras), and the offline LLM runtime is the same version in
pyproject.toml, the Makefile and the constraints."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_dependencies() -> dict[str, str]:
    """Normalised name -> the requirement as written, for the core and installed extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in ("dev", "local-llm"):
        requirements += project["optional-dependencies"][extra]
    found = {}
    for requirement in requirements:
        match = NAME.match(requirement)
        assert match, requirement
        found[normalise(match.group(1))] = requirement
    return found


def constraint_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and version and " " not in version, f"not an exact pin: {line!r}"
        pins[normalise(name)] = version
    return pins


def test_every_direct_dependency_is_pinned() -> None:
    pins = constraint_pins()
    missing = sorted(set(direct_dependencies()) - set(pins))
    assert missing == []
    assert len(pins) > len(direct_dependencies())  # the transitive ones too


def test_the_pins_satisfy_pyproject() -> None:
    from packaging.requirements import Requirement

    pins = constraint_pins()
    for name, written in direct_dependencies().items():
        requirement = Requirement(written)
        assert requirement.specifier.contains(pins[name], prereleases=True), (written, pins[name])


def test_the_llm_runtime_is_one_version_everywhere() -> None:
    makefile = (ROOT / "Makefile").read_text()
    (make_version,) = re.findall(r"^LLAMA_CPP_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert direct_dependencies()["llama-cpp-python"] == f"llama-cpp-python[server]=={make_version}"
    assert constraint_pins()["llama-cpp-python"] == make_version
    readme = (ROOT / "README.md").read_text()
    assert f"llama-cpp-python {make_version}" in readme
