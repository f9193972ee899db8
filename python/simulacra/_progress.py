"""Progress bars for long calls: the adapter behind ``Mixture.fit(progress=True)``."""

from __future__ import annotations

from typing import Any, Callable, Optional

_DESCRIPTIONS = {
    "order": "try orders",
    "persona": "fit personas",
    "alpha": "fit alpha",
    "segmentation": "fit segmentation",
    "calibration": "calibrate",
    "refit": "refit personas",
}


class TqdmProgress:
    """A progress callback drawing one tqdm bar per training stage.

    Training reports ``TrainProgress(stage, name, done, total)``; a new bar
    starts when the stage changes or its count starts over, and a bar closes
    when ``done`` reaches ``total`` (or at the next stage).
    """

    def __init__(self, tqdm: Callable[..., Any]) -> None:
        self._tqdm = tqdm
        self._bar: Any = None
        self._stage: Optional[str] = None
        self._done = 0

    def __call__(self, progress: Any) -> None:
        if self._bar is None or progress.stage != self._stage or progress.done < self._done:
            self.close()
            self._bar = self._tqdm(total=progress.total, desc=_DESCRIPTIONS.get(progress.stage, progress.stage))
            self._stage = progress.stage
            self._done = 0
        if progress.name:
            self._bar.set_postfix_str(progress.name, refresh=False)
        self._bar.update(progress.done - self._done)
        self._done = progress.done
        if progress.done >= progress.total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            self._stage = None


def tqdm_progress() -> Optional[TqdmProgress]:
    """A TqdmProgress if tqdm is installed, else None (no progress shown)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return TqdmProgress(tqdm)


class TqdmDiscoveryProgress:
    """A progress callback drawing one tqdm bar over every EM iteration of a discovery run.

    ``simulacra.discover`` reports ``DiscoveryProgress(k, restart, iteration,
    log_likelihood)`` after each iteration (with annealing, each restart runs
    EM twice, annealed then plain); a run that converges early skips the rest
    of its iterations on the bar.
    """

    def __init__(self, tqdm: Callable[..., Any], total: int, iterations: int) -> None:
        self._bar = tqdm(total=total, desc="discover")
        self._iterations = iterations
        self._run: Optional[tuple] = None
        self._done = 0

    def __call__(self, progress: Any) -> None:
        run = (progress.k, progress.restart)
        # A new run: another k or restart, or the same restart's plain run after its annealed one.
        if self._run is not None and (run != self._run or progress.iteration <= self._done):
            self._bar.update(self._iterations - self._done)  # the last run converged early
            self._done = 0
        self._run = run
        self._bar.update(progress.iteration - self._done)
        self._done = progress.iteration
        self._bar.set_postfix_str(f"k={progress.k} log-likelihood={progress.log_likelihood:.1f}", refresh=False)

    def close(self) -> None:
        self._bar.close()


def tqdm_discovery_progress(total: int, iterations: int) -> Optional[TqdmDiscoveryProgress]:
    """A TqdmDiscoveryProgress of `total` iterations if tqdm is installed, else None."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return TqdmDiscoveryProgress(tqdm, total, iterations)
