"""The environment set-up (scripts/setup_venv.sh): uv reads pip's index settings."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pip_to_uv = load_script("pip_to_uv")


def test_pip_settings_follow_pips_precedence_not_the_listings_order() -> None:
    # pip prints the sections sorted by name: the PIP_* variables (":env:") come first but win
    listing = (":env:.find-links='/opt/b'\n"
               "global.extra-index-url='file:///x/simple\\nhttps://mirror.example/simple'\n"
               "global.find-links='/opt/a'\n"
               "global.cert='/etc/ssl/cert.pem'\n"
               "install.extra-index-url='https://install.example/simple'\n"
               "download.index-url='https://not-for-install.example/simple'\n")
    assert pip_to_uv.pip_settings(listing) == {
        "find-links": ["/opt/b"], "extra-index-url": ["https://install.example/simple"]}
    only_global = "global.extra-index-url='file:///x/simple\\nhttps://mirror.example/simple'\n"
    assert pip_to_uv.pip_settings(only_global) == {
        "extra-index-url": ["file:///x/simple", "https://mirror.example/simple"]}
    assert pip_to_uv.pip_settings("") == {} and pip_to_uv.uv_options({}) == []


def test_uv_options_keep_remote_and_existing_locations_only(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    constraints = tmp_path / "c.txt"
    constraints.write_text("torch<=2.14.1\n")
    settings = {"extra-index-url": [f"file://{tmp_path}/missing", "https://mirror.example/simple"],
                "find-links": [str(wheels), str(tmp_path / "gone")], "constraint": [str(constraints)],
                "index-url": [f"file://{wheels}"]}
    assert pip_to_uv.uv_options(settings) == [
        "--index-url", f"file://{wheels}", "--extra-index-url", "https://mirror.example/simple",
        "--find-links", str(wheels), "--constraint", str(constraints)]


def test_the_makefile_reinstalls_when_the_set_up_changes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    stamp_rule = next(line for line in makefile.splitlines() if line.startswith("$(STAMP):"))
    assert "scripts/setup_venv.sh" in stamp_rule and "scripts/pip_to_uv.py" in stamp_rule
    script = (ROOT / "scripts" / "setup_venv.sh").read_text()
    assert "scripts/pip_to_uv.py" in script and "UIM_INSTALLER" in script
