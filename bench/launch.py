"""Run one command and record its time and peak memory: the benchmarks start commands through this small process.

A process started by a large one (the benchmark holds 100,000 works) inherits that process's peak resident memory
in the kernel's count, which survives the exec: every command measured from the benchmark itself showed the
benchmark's own peak. Started from here, a command's count is its own.

Usage: python bench/launch.py RESULT.json COMMAND [ARG ...]; RESULT.json gets {"seconds", "peak_kb", "status"}.
"""

import json
import os
import sys
import time


def main() -> None:
    result, command = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - started
    with open(result, "w", encoding="utf-8") as handle:
        json.dump({"seconds": elapsed, "peak_kb": usage.ru_maxrss, "status": os.waitstatus_to_exitcode(status)}, handle)


if __name__ == "__main__":
    main()
