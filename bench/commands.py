"""Timing whole evidence commands in fresh processes, and the Markdown table of their medians: shared by the
benchmarks that compare commands side by side (suggest_cold.py, writes.py)."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LAUNCHER = Path(__file__).resolve().parent / "launch.py"
_LAST_PEAK_MB = [0.0]


def last_peak_mb() -> float:
    """The peak resident memory of the command ``timed`` ran last, in MB."""
    return _LAST_PEAK_MB[0]


def timed(command: list[str], env: dict[str, str], allowed: tuple[int, ...] = (0,)) -> float:
    """Seconds the command took; a failure stops the benchmark with its error. Its peak resident memory (the
    kernel's count for that one process) is ``last_peak_mb()``. Started through ``launch.py``, a small process, so
    that the count is the command's own and not this benchmark's (see there); the time is taken there too, so the
    launcher's own start is not in it."""
    with tempfile.TemporaryDirectory() as scratch:
        result = Path(scratch) / "result.json"
        process = subprocess.run(
            [sys.executable, "-I", "-S", str(LAUNCHER), str(result), *command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if not result.is_file():
            raise SystemExit(f"{' '.join(command)} could not be started: {process.stderr.strip()}")
        measured = json.loads(result.read_text(encoding="utf-8"))
    if measured["status"] not in allowed:
        raise SystemExit(f"{' '.join(command)} failed ({measured['status']}): {process.stderr.strip()}")
    _LAST_PEAK_MB[0] = measured["peak_kb"] / 1024  # kilobytes on Linux
    return measured["seconds"]


def print_table(
    times: dict[str, list[float]], baseline: str, about: str, heading: str, peaks: dict[str, float] | None = None
) -> None:
    """The machine line, then each command's median, minimum and ratio to ``baseline``'s median (and its peak
    resident memory, when ``peaks`` gives it)."""
    base = statistics.median(times[baseline])
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}; {about}\n"
    )
    memory = " peak memory |" if peaks else ""
    print(f"| {heading} | median | min | ratio to {baseline} |{memory}")
    print("|---|---:|---:|---:|" + ("---:|" if peaks else ""))
    for name, values in times.items():
        median = statistics.median(values)
        row = f"| {name} | {median * 1000:.0f} ms | {min(values) * 1000:.0f} ms | {median / base:.2f}x |"
        print(row + (f" {peaks[name]:.0f} MB |" if peaks else ""))
