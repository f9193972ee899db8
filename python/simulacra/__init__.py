"""simulacra: a language model that is an explicit, inspectable mixture of masks.

Each persona ("mask") is its own next-token model; the pile's prediction is
their average weighted by how likely each mask was to have written the text so
far (its posterior), with optional switching so masks can be swapped mid-text.

    import simulacra

    pile = simulacra.Mixture.fit(simulacra.Corpus.builtin(), order=5)
    print(pile.trace("Arr, me hearties! Certainly, I'd be happy to help."))
    print(pile.generate("Arr, ", seed=7, clamp="pirate"))

Texts are str (UTF-8) or bytes everywhere; arrays are numpy (float32 unless a
function says otherwise); natural logs throughout.
"""

from importlib import metadata as _metadata

from ._core import (
    BOUNDARY,
    FORMAT_VERSION,
    VOCAB,
    Ablation,
    Attribution,
    BoundaryScore,
    Corpus,
    Discounts,
    Discovery,
    DiscoveryProgress,
    Document,
    FileError,
    FixedShareEm,
    Generation,
    GenerationStep,
    InterpolatedPersona,
    KMeans,
    Mixture,
    NGramPersona,
    Persona,
    PersonaMatch,
    Prediction,
    RawView,
    SegmentDiscovery,
    SegmentationFit,
    Smoothed,
    State,
    Stream,
    SwitchEvidence,
    Trace,
    TrainProgress,
    TrainReport,
    TransformerConfig,
    TransformerData,
    TransformerForward,
    TransformerModel,
    TransformerPersona,
    TransformerProgress,
    TransformerTrainer,
    TransitionEm,
    Vote,
    adjusted_rand_index,
    boundary_f1,
    contingency_table,
    decode,
    discover,
    discover_segments,
    encode,
    encode_document,
    fit_fixed_share_em,
    fit_interpolation_weight,
    fit_switching_segmentation,
    fit_transition_em,
    fit_weighted,
    kmeans,
    label_boundaries,
    load,
    match_personas,
    max_weight_assignment,
    normalized_mutual_info,
    purity,
    sampler_distribution,
    token_name,
)

from . import display as _display  # noqa: E402,F401  (attaches Trace._repr_html_)
from . import frame as _frame  # noqa: E402,F401  (attaches Trace.to_pandas)

try:
    __version__ = _metadata.version("simulacra")
except _metadata.PackageNotFoundError:  # imported from a build tree
    __version__ = "0.0.0"

__all__ = [
    "BOUNDARY",
    "FORMAT_VERSION",
    "VOCAB",
    "Ablation",
    "Attribution",
    "BoundaryScore",
    "Corpus",
    "Discounts",
    "Discovery",
    "DiscoveryProgress",
    "Document",
    "FileError",
    "FixedShareEm",
    "Generation",
    "GenerationStep",
    "InterpolatedPersona",
    "KMeans",
    "Mixture",
    "NGramPersona",
    "Persona",
    "PersonaMatch",
    "Prediction",
    "RawView",
    "SegmentationFit",
    "Smoothed",
    "State",
    "Stream",
    "SwitchEvidence",
    "Trace",
    "TrainProgress",
    "TrainReport",
    "TransformerConfig",
    "TransformerData",
    "TransformerForward",
    "TransformerModel",
    "TransformerPersona",
    "TransformerProgress",
    "TransformerTrainer",
    "TransitionEm",
    "Vote",
    "adjusted_rand_index",
    "boundary_f1",
    "contingency_table",
    "decode",
    "discover",
    "discover_segments",
    "encode",
    "encode_document",
    "fit_fixed_share_em",
    "fit_interpolation_weight",
    "fit_switching_segmentation",
    "fit_transition_em",
    "fit_weighted",
    "kmeans",
    "label_boundaries",
    "load",
    "match_personas",
    "max_weight_assignment",
    "normalized_mutual_info",
    "purity",
    "sampler_distribution",
    "token_name",
]
