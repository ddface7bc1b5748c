"""Prints the figures the reliability tests measured (oversold units, latencies) after the run, pass or fail."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import shelfproc  # noqa: E402


def pytest_terminal_summary(terminalreporter):
    if shelfproc.FIGURES:
        terminalreporter.section("reliability figures")
        for line in shelfproc.FIGURES:
            terminalreporter.write_line(line)
