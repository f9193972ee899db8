"""``Trace.to_pandas()``: a trace as a pandas DataFrame (attached on ``import simulacra``).

One row per traced token, the columns in this order:

- ``position``: 0-based index of the token in the traced text (int64);
- ``token``: the token id (int32; 256 is the document boundary);
- ``char``: the token as a short readable string (``simulacra.token_name``: ``'A'``, ``'\\n'``, ...);
- ``weight_<name>`` for each persona in pile order: its weight before the token (float32);
- ``logprob_<name>`` for each persona: its own natural-log probability of the token (float32);
- ``logprob``: the mixture's natural-log probability of the token (float32);
- ``entropy``: the entropy of the weights before the token, nats (float32);
- ``dominant``: the name of the heaviest persona before the token (a categorical over the personas,
  in pile order).

pandas is not a dependency of simulacra: ``to_pandas`` imports it when called and raises
ImportError naming it when it is missing (``pip install pandas``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._core import Trace, token_name


def trace_to_pandas(trace: Trace) -> Any:
    """The trace as a pandas DataFrame, one row per token (the module's docstring lists the columns)."""
    try:
        import pandas as pd
    except ImportError as e:
        raise ImportError("Trace.to_pandas needs pandas, which is not installed: pip install pandas") from e
    names = trace.personas
    tokens = trace.tokens
    columns: dict[str, Any] = {
        "position": np.arange(len(tokens), dtype=np.int64),
        "token": tokens,
        "char": [token_name(int(t)) for t in tokens],
    }
    weights, logprobs = trace.weights, trace.persona_logprobs
    for k, name in enumerate(names):
        columns[f"weight_{name}"] = weights[:, k]
    for k, name in enumerate(names):
        columns[f"logprob_{name}"] = logprobs[:, k]
    columns["logprob"] = trace.logprobs
    columns["entropy"] = trace.entropy
    columns["dominant"] = pd.Categorical.from_codes(trace.dominant, categories=names)
    return pd.DataFrame(columns)


def attach() -> None:
    """Installs Trace.to_pandas (idempotent)."""
    Trace.to_pandas = trace_to_pandas  # type: ignore[attr-defined]


attach()
