"""Repository-wide pytest hooks.

``--must-run PATTERN`` (used by ``make test``): every file matching the glob ``PATTERN``
(relative to the repository root) must have at least one test that *passed*. Otherwise
the session fails, even if every test that did run passed. This closes the gaps that an
exit code alone leaves open: a test file that silently collected nothing, a book test
that was skipped, deselected or lost by a worker.

The closing summary lists how long each notebook took to execute (the
``notebook_seconds`` property that ``tests/test_book_build.py`` records).
"""

from __future__ import annotations

import glob
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--must-run",
        action="append",
        default=[],
        metavar="GLOB",
        help="fail unless every file matching GLOB (relative to the rootdir) had a passing test",
    )


def pytest_configure(config: pytest.Config) -> None:
    patterns = config.getoption("--must-run")
    # xdist workers forward their reports to the controller; only the controller checks.
    if patterns and not hasattr(config, "workerinput"):
        config.pluginmanager.register(MustRun(patterns, config.rootpath), "must-run")


class MustRun:
    """Record which files produced a passing test and fail the session if one did not."""

    def __init__(self, patterns: list[str], rootpath: Path) -> None:
        self.rootpath = rootpath
        self.expected: dict[str, str] = {}  # file -> pattern it came from
        self.empty_patterns: list[str] = []
        for pattern in patterns:
            matches = sorted(glob.glob(pattern, root_dir=rootpath))
            if not matches:
                self.empty_patterns.append(pattern)
            for match in matches:
                self.expected[Path(match).as_posix()] = pattern
        self.passed: set[str] = set()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and report.passed:
            self.passed.add(report.nodeid.split("::", 1)[0])

    def problems(self) -> list[str]:
        """Human-readable reasons for failing the session (empty if all is well)."""
        out = [f"--must-run {p!r} matches no file" for p in self.empty_patterns]
        out += [
            f"{path}: no test passed (required by --must-run {pattern!r})"
            for path, pattern in sorted(self.expected.items())
            if path not in self.passed
        ]
        return out

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        problems = self.problems()
        if not problems:
            return
        # Report the problem as a failed pseudo-test so that it shows in the failure
        # section, in the -ra summary and in the closing "N failed, M passed" line.
        report = pytest.TestReport(
            nodeid="conftest.py::must-run",
            location=("conftest.py", 0, "must-run"),
            keywords={},
            outcome="failed",
            longrepr="\n".join(problems),
            when="call",
        )
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.stats.setdefault("failed", []).append(report)
        session.testsfailed += 1
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List the notebooks' execution times (``notebook_seconds``), longest first."""
    times = []
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            for name, value in getattr(report, "user_properties", ()):
                if name == "notebook_seconds":
                    times.append((float(value), report.nodeid.split("[", 1)[-1].rstrip("]")))
    if times:
        terminalreporter.section("notebook execution times (two side by side; 0 s = cached)")
        for seconds, notebook in sorted(times, reverse=True):
            terminalreporter.write_line(f"{seconds:7.1f} s  {notebook}")
