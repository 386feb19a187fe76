"""The environments do not drift: requirements*.txt, environment.yml, pyproject.toml."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
import yaml
from packaging.requirements import Requirement

import uim_utils

ROOT = Path(__file__).resolve().parents[1]


def normalise(name: str) -> str:
    """PEP 503 normalised project name (``Open_CLIP-torch`` -> ``open-clip-torch``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lines(lines: list[str], base: Path) -> dict[str, str]:
    """``{name: specifier}`` from requirement lines, following ``-r`` includes.

    Comments, blank lines and pip options (``--extra-index-url`` ...) are skipped.
    """
    out: dict[str, str] = {}
    for raw in lines:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            out.update(parse_requirements(base / line.split(maxsplit=1)[1]))
            continue
        if line.startswith("-"):
            continue
        req = Requirement(line)
        name = normalise(req.name)
        assert name not in out, f"{name} listed twice"
        out[name] = str(req.specifier)
    return out


def parse_requirements(path: Path) -> dict[str, str]:
    return parse_lines(path.read_text().splitlines(), path.parent)


def environment_yml() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def conda_pip_section() -> list[str]:
    for dep in environment_yml()["dependencies"]:
        if isinstance(dep, dict) and "pip" in dep:
            return dep["pip"]
    raise AssertionError("environment.yml has no pip section")


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_lists_exactly_the_requirements() -> None:
    pip = parse_requirements(ROOT / "requirements.txt")
    conda = parse_lines(conda_pip_section(), ROOT)
    only_pip = {k: v for k, v in pip.items() if k not in conda}
    only_conda = {k: v for k, v in conda.items() if k not in pip}
    assert only_pip == {}, "in requirements*.txt but not in environment.yml"
    assert only_conda == {}, "in environment.yml but not in requirements*.txt"
    differ = {k: (pip[k], conda[k]) for k in pip if pip[k] != conda[k]}
    assert differ == {}, "version specifiers differ (requirements, environment.yml)"


def test_torch_is_pinned_exactly() -> None:
    """A bare `torch` pulls a multi-GB CUDA build; local runs and CI use the pins."""
    pins = parse_requirements(ROOT / "requirements-torch.txt")
    assert pins["torch"].startswith("==") and pins["torchvision"].startswith("==")


def test_jupyter_book_stays_on_1x() -> None:
    spec = parse_requirements(ROOT / "requirements.txt")["jupyter-book"]
    assert "<2" in spec


def test_conda_python_satisfies_the_package() -> None:
    deps = [d for d in environment_yml()["dependencies"] if isinstance(d, str)]
    python = next(d for d in deps if d.startswith("python"))
    version = tuple(int(x) for x in python.split("=")[-1].split(".")[:2])
    minimum = pyproject()["project"]["requires-python"].removeprefix(">=")
    assert version >= tuple(int(x) for x in minimum.split(".")[:2])
    assert "pip" in deps


def test_package_dependencies_are_in_the_requirements() -> None:
    project = pyproject()["project"]
    needed = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        needed += extra
    names = {normalise(Requirement(r).name) for r in needed}
    missing = names - set(parse_requirements(ROOT / "requirements.txt"))
    assert missing == set()


def test_version_matches_pyproject() -> None:
    assert uim_utils.__version__ == pyproject()["project"]["version"]


def test_binder_installs_the_package() -> None:
    post_build = ROOT / "postBuild"
    assert post_build.exists() and "pip install" in post_build.read_text()
