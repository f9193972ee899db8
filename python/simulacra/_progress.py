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
