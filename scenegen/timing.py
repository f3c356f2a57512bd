"""StepClock: per-step seconds for the benchmarks' stage tables."""

from __future__ import annotations

import time
from typing import Dict, Optional


class StepClock:
    """Adds the seconds since the previous lap to ``timings[step]`` (no-op without a dict)."""

    def __init__(self, timings: Optional[Dict[str, float]]):
        self.timings = timings
        self.last = time.perf_counter()

    def restart(self) -> None:
        """Start the next lap now (the time since the last lap counts for no step)."""
        self.last = time.perf_counter()

    def lap(self, step: str) -> None:
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[step] = self.timings.get(step, 0.0) + now - self.last
            self.last = now
