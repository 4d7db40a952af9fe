"""Timing whole evidence commands in fresh processes, and the Markdown table of their medians: shared by the
benchmarks that compare commands side by side (suggest_cold.py, writes.py)."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time


def timed(command: list[str], env: dict[str, str], allowed: tuple[int, ...] = (0,)) -> float:
    """Seconds the command took; a failure stops the benchmark with its error."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in allowed:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed


def print_table(times: dict[str, list[float]], baseline: str, about: str, heading: str) -> None:
    """The machine line, then each command's median, minimum and ratio to ``baseline``'s median."""
    base = statistics.median(times[baseline])
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}; {about}\n"
    )
    print(f"| {heading} | median | min | ratio to {baseline} |")
    print("|---|---:|---:|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median * 1000:.0f} ms | {min(values) * 1000:.0f} ms | {median / base:.2f}x |")
