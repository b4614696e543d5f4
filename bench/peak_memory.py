"""The peak resident memory of this process.

``getrusage``'s ``ru_maxrss`` is no use in a child started by a benchmark: Linux carries the parent's peak
over ``fork`` and ``exec``, so the child would report at least what its parent held. ``VmHWM`` in
``/proc/self/status`` is the high-water mark of this program's own memory.
"""

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
