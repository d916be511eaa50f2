"""One measured run: wall time, and CPU and peak memory of the whole process tree from the OS.

os.wait4 returns the child's rusage including every descendant it waited for (ansible-playbook
waits for its forked workers), so user+sys covers the tree; ru_maxrss is the peak resident set of
the largest single process in it (Linux reports KiB).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import typing as t


class Sample(t.NamedTuple):
    rc: int
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


def run_measured(command: list[str], log_path: str, env: dict[str, str] | None = None, cwd: str | None = None,
                 timeout_s: float = 3600.0) -> Sample:
    """Run command with its output in log_path; a run past timeout_s is killed (rc -9)."""
    with open(log_path, "wb") as log:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=env, cwd=cwd, start_new_session=True)
        watchdog = threading.Timer(timeout_s, lambda: os.killpg(process.pid, signal.SIGKILL))
        watchdog.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
        wall = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Sample(process.returncode, wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss / 1024.0)
