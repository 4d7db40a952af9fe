"""Files as a later command finds them: written a while ago.

evidence trusts a file's size, time and inode to say it is unchanged only once its modification time lies further
in the past than the clock could blur (``derived.settled``); a test that writes a file and runs the next command a
millisecond later would otherwise never see the path a user sees, who edits and then searches seconds later."""

from __future__ import annotations

import os
import time
from pathlib import Path


def written_earlier(path: Path, seconds: float = 60.0) -> None:
    """Give ``path`` the times it would have had it been written ``seconds`` ago."""
    then = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(then, then))
