"""Type stubs of the compiled extension `simulacra._core` (re-exported by `simulacra`).

Texts are `str` (UTF-8 encoded) or `bytes` wherever a text is taken. Arrays are
fresh, C-contiguous numpy arrays: float32 unless noted, int32 for tokens.
All log-probabilities are natural logs.

One file for the whole module (over 500 lines on purpose): type checkers read the
stubs of an extension module from `<module>.pyi`, and each entry mirrors a binding
in python/bind_*.cpp.
"""

import builtins
import os
from typing import Any, Callable, Iterator, Literal, Mapping, Optional, Protocol, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

_Text = Union[str, bytes, bytearray]
_PathLike = Union[str, bytes, os.PathLike]
_PersonaKey = Union[str, bytes, int, np.integer]
_Tokens = Union[Sequence[int], npt.NDArray[np.integer]]
_Switching = Literal["none", "fixed_share", "forgetting", "transition"]
_SwitchAfter = Union[None, str, bytes, bytearray, Sequence[int], "builtins.set[int]", "builtins.frozenset[int]"]

VOCAB: int
"""Number of tokens: the 256 bytes plus the document boundary (257)."""
BOUNDARY: int
"""The document boundary token (256): context at a document start, predicted at its end."""
FORMAT_VERSION: int
"""The model file format version this library writes (and the newest it reads)."""

class FileError(OSError):
    """A model or corpus file that cannot be read, written or understood (missing,
    truncated, corrupted, foreign, or newer than this library)."""

# ---------------------------------------------------------------- tokenizer

def encode(text: _Text) -> npt.NDArray[np.int32]:
    """The tokens of a text: its bytes, no boundary."""

def encode_document(text: _Text) -> npt.NDArray[np.int32]:
    """The tokens of a document: its bytes followed by the end boundary."""

def decode(tokens: _Tokens, boundary: _Text = b"\n") -> bytes:
    """The bytes of integer tokens; a boundary token becomes `boundary`.

    TypeError for non-integer arrays, ValueError for a shape other than (n,),
    IndexError for a token outside 0..256.
    """

def token_name(token: int) -> str:
    """A readable name of one token: printable ASCII as itself, '\\n'-style escapes, '<b>' for the boundary."""

# ---------------------------------------------------------------- corpus

class Document:
    """One document and the persona it belongs to."""

    @property
    def text(self) -> str:
        """The text as str (invalid UTF-8 replaced by U+FFFD; `raw` has the exact bytes)."""
    @property
    def raw(self) -> bytes:
        """The document's exact bytes."""
    @property
    def persona(self) -> str:
        """The persona's name."""
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class Corpus:
    """Documents labelled with the persona that wrote them.

    Indexing accepts negative indices; iteration yields copies of the documents.
    """

    def __init__(self) -> None:
        """An empty corpus."""
    @staticmethod
    def from_texts(texts: Sequence[_Text], personas: Optional[Sequence[_Text]] = None) -> Corpus:
        """texts[i] written by personas[i]; without personas every document belongs to 'default'.

        ValueError when the sizes differ or a persona is empty.
        """
    @staticmethod
    def from_directory(path: _PathLike) -> Corpus:
        """One entry per persona, in name order, hidden entries skipped: <persona>.<ext>
        (its paragraphs are the documents) or <persona>/ (each regular file is one document)."""
    @staticmethod
    def from_jsonl(path: _PathLike) -> Corpus:
        """JSON Lines with string fields 'text' and 'persona'; errors read 'path:line: what'."""
    @staticmethod
    def from_play(
        path: _PathLike, top_speakers: Optional[int] = None, groups: Optional[Mapping[_Text, _Text]] = None
    ) -> Corpus:
        """A play script ('Speaker:' line, then the speech); each speech is a document by its speaker.

        groups maps speakers to personas (speakers not in it are dropped);
        top_speakers keeps the speakers with the most bytes of speech.
        """
    @staticmethod
    def from_fortunes(paths: Union[_PathLike, Sequence[_PathLike]]) -> Corpus:
        """fortune(6) files ('%' lines separate entries), the persona being the file's name.

        A directory expands to its files without an extension.
        """
    @staticmethod
    def builtin() -> Corpus:
        """The default corpus embedded in the library (data/personas/*.txt, paragraphs)."""
    def __len__(self) -> int: ...
    def __getitem__(self, index: int) -> Document:
        """Document `index` (negative counts from the end); IndexError outside."""
    def __iter__(self) -> Iterator[Document]: ...
    @property
    def personas(self) -> list[str]:
        """The distinct persona names, sorted."""
    @property
    def bytes(self) -> int:
        """The total size of all texts in bytes."""
    def add(self, text: _Text, persona: _Text) -> None:
        """Appends a document. ValueError for an empty persona; empty texts are allowed."""
    def texts_of(self, persona: _Text) -> list[builtins.bytes]:
        """The exact bytes of the persona's documents, in corpus order. IndexError if it has none."""
    def split(self, fraction: float, seed: int = 0) -> Tuple[Corpus, Corpus]:
        """(train, heldout): a seeded, stratified share `fraction` of each persona's documents held out.

        Every persona keeps at least one training document. ValueError unless 0 <= fraction < 1.
        """
    def split_tail(self, fraction: float) -> Tuple[Corpus, Corpus]:
        """(train, heldout) by position: for each persona, the shortest tail of its documents (corpus order)
        holding at least `fraction` of its bytes is held out, so every held-out byte comes after its training
        text. The first document stays in train. ValueError unless 0 <= fraction < 1.
        """

# ---------------------------------------------------------------- personas

class Persona:
    """A mask: a next-token model over the 257 tokens.

    Subclass it to write a mask in Python (docs/python.md, "Any model as a mask"): define
    next_logprobs(context) (tokens in, (257,) log-probabilities out) and, optionally, token_logprobs(tokens)
    and kind. A subclass's own methods take token arrays; score(text) and the base's members take texts.
    """

    def __init__(self) -> None:
        """The base of a persona written in Python."""
    @property
    def kind(self) -> str:
        """The model family: 'ngram', ..."""
    def score(self, text: _Text) -> float:
        """log p(text + end boundary | document start): the log-probability of one document."""
    def token_logprobs(self, text: _Text) -> npt.NDArray[np.float64]:
        """(len(bytes) + 1,) float64: log p of each byte of the document and of its end boundary."""
    def next_logprobs(self, context: _Text = b"") -> npt.NDArray[np.float32]:
        """(257,) float32: log p(next token | context), context being the document read so far."""

class _PersonaLike(Protocol):
    """What a Mixture (or InterpolatedPersona) takes as a persona written in Python, besides a simulacra.Persona
    subclass: any object with next_logprobs, optionally token_logprobs and kind (a str or a method). The
    library calls them with fresh numpy int32 arrays and checks what they return (floating point, converted
    to float64; the shape; no NaN or +inf; |logsumexp| <= 1e-6), raising TypeError / ValueError naming the
    persona. Not savable (save and pickle raise ValueError)."""

    def next_logprobs(self, context: npt.NDArray[np.int32]) -> npt.ArrayLike:
        """(257,) natural-log probabilities of the next token given `context`, the tokens of the current
        document so far (bytes 0..255; empty at a document start; never the boundary)."""
    # Optional: token_logprobs(self, tokens: npt.NDArray[np.int32]) -> npt.ArrayLike, (n,) log p of each token
    # of one document from its start (the boundary 256 at most once, as the last token); one call per
    # document on the trace / score / attribute paths instead of one next_logprobs call per token.

_AnyPersona = Union[Persona, _PersonaLike]

class Discounts:
    """The three Kneser-Ney discounts of one order; unpacks as (d1, d2, d3)."""

    @property
    def d1(self) -> float: ...
    @property
    def d2(self) -> float: ...
    @property
    def d3(self) -> float: ...
    @property
    def fallback(self) -> bool:
        """True when the count-of-counts were degenerate and (0.5, 1, 1.5) was used."""
    def __iter__(self) -> Iterator[float]: ...

class NGramPersona(Persona):
    """An interpolated modified Kneser-Ney n-gram persona, any order."""

    @staticmethod
    def fit(texts: Sequence[_Text], order: int) -> NGramPersona:
        """Trains an order-`order` model on documents. ValueError if order < 1 or there are no documents."""
    @property
    def order(self) -> int: ...
    @property
    def num_ngrams(self) -> int:
        """Stored n-grams of every order (order 1 is a dense table of 258 entries)."""
    @property
    def ngrams_per_order(self) -> list[int]:
        """Stored n-grams of order 1, 2, ..., order."""
    @property
    def memory_bytes(self) -> int:
        """Bytes held by the trie arrays."""
    def discounts(self, n: int) -> Discounts:
        """The discounts of order n (1..order). IndexError outside that range."""
    def to_arpa(self, path: _PathLike) -> None:
        """Writes the model as an ARPA file (docs/arpa.md: byte b is the word '%02x', the boundary </s>),
        atomically. OSError if it cannot be written."""
    @staticmethod
    def from_arpa(path: _PathLike) -> NGramPersona:
        """Reads an ARPA file (written by to_arpa, KenLM, SRILM, ...) as an n-gram persona answering its back-off
        queries. FileError naming the path and line on any problem."""
    @overload
    def compact(self, quantize: Literal[False] = False) -> CompactNGramPersona:
        """The same model in the compact layout (docs/compact.md): 4 bytes per top-order n-gram, 12 per other,
        probabilities within a relative 3.1e-5. ValueError for a back-off model with negative terms."""
    @overload
    def compact(self, quantize: Literal[True]) -> QuantNGramPersona:
        """The model quantised to 8-bit codebooks and bit-packed records (docs/compact.md: about 3.4 bytes per
        n-gram, held-out perplexity within 0.5%); any model, back-off ones from ARPA included."""
    @overload
    def compact(self, quantize: bool) -> Union[CompactNGramPersona, QuantNGramPersona]: ...

class CompactNGramPersona(Persona):
    """A Kneser-Ney n-gram persona in the compact layout, made by NGramPersona.compact(); saved as kind
    "ngram_compact", loaded in place by load(path, mmap=True)."""

    prob_rel_error_bound: float
    @property
    def order(self) -> int: ...
    @property
    def num_ngrams(self) -> int: ...
    @property
    def ngrams_per_order(self) -> list[int]: ...
    @property
    def memory_bytes(self) -> int:
        """Bytes held by the trie arrays and the level-2 index."""
    def discounts(self, n: int) -> Discounts: ...

class QuantNGramPersona(Persona):
    """An n-gram persona quantised to 8 bits and bit-packed, made by NGramPersona.compact(quantize=True); saved as
    kind "ngram_quant", loaded in place by load(path, mmap=True). Distributions sum to 1 within sum_tolerance."""

    sum_tolerance: float
    @property
    def order(self) -> int: ...
    @property
    def num_ngrams(self) -> int: ...
    @property
    def ngrams_per_order(self) -> list[int]: ...
    @property
    def memory_bytes(self) -> int:
        """Bytes held by the record arrays, the codebooks and the level-2 index."""
    @property
    def max_sum_error(self) -> float:
        """The largest |sum - 1| over every stored context's next-token distribution."""
    def discounts(self, n: int) -> Discounts: ...

class NGramCounts:
    """The raw counts of every n-gram of orders 1..order of some documents, mergeable exactly: the persona of
    merged shard counts is NGramPersona.fit of all the documents, bit for bit. Pickles through to_bytes."""

    def __init__(self, texts: Sequence[_Text], order: int) -> None:
        """Counts the documents (an empty list: empty counts, the identity of merging). ValueError for a bad order."""
    @property
    def order(self) -> int: ...
    @property
    def num_documents(self) -> int: ...
    @property
    def num_tokens(self) -> int:
        """Tokens predicted: every byte and one end boundary per document."""
    @property
    def num_ngrams(self) -> int: ...
    @property
    def ngrams_per_order(self) -> list[int]: ...
    def count(self, ngram: _Text, start: bool = False) -> int:
        """Occurrences of a byte n-gram (after the document start when start=True); 0 if never seen."""
    def merge(self, other: NGramCounts) -> NGramCounts:
        """Adds other's counts in place and returns self. ValueError if the orders differ."""
    def __add__(self, other: NGramCounts) -> NGramCounts: ...
    def __iadd__(self, other: NGramCounts) -> NGramCounts: ...
    def truncated(self, order: int) -> NGramCounts:
        """The counts of a lower order (what counting at that order gives)."""
    def to_persona(self) -> NGramPersona:
        """The Kneser-Ney persona of these counts. ValueError if nothing was counted."""
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> NGramCounts:
        """The inverse of to_bytes. FileError for damaged or foreign bytes."""

# ---------------------------------------------------------------- transformer

_FloatDType = Union[Literal["float32", "float64"], type[np.float32], type[np.float64], np.dtype]

class InterpolatedPersona(Persona):
    """A persona over a shared body: lambda p_own + (1 - lambda) p_background, token by token (the n-gram
    hydra; Mixture.fit makes every mask one). Both models are shared, not copied."""

    def __init__(self, own: _AnyPersona, background: _AnyPersona, weight: float) -> None:
        """lambda = weight, the share of `own`, in [0, 1]. ValueError otherwise and for a None model (TypeError
        for what is not a persona). Either model may be written in Python."""
    @property
    def own(self) -> _AnyPersona:
        """The persona's own model."""
    @property
    def background(self) -> _AnyPersona:
        """The shared background model."""
    @property
    def weight(self) -> float:
        """lambda, the share of the own model."""

def fit_interpolation_weight(own: Sequence[float], background: Sequence[float]) -> float:
    """The lambda in [0, 1] maximising sum_t log(lambda e^own_t + (1 - lambda) e^background_t) over the held-out
    per-token log-probabilities of the same tokens under the two models (EM's fixed point, exact to 1e-12).
    ValueError if the sizes differ, a value is NaN or +inf, or a token is impossible under both."""

class TransformerConfig:
    """The shape of a transformer hydra: a causal pre-LayerNorm GPT trunk over the 257 tokens
    with `personas` heads (each its own LayerNorm and unembedding, or tok_emb when
    tie_weights), an optional learned gate, biases on or off. Read-only attributes."""

    def __init__(
        self,
        layers: int = 4,
        heads: int = 4,
        width: int = 128,
        context: int = 64,
        personas: int = 1,
        bias: bool = False,
        tie_weights: bool = False,
        gate: bool = False,
    ) -> None:
        """ValueError naming the first bad field (sizes >= 1, heads dividing width)."""
    @property
    def layers(self) -> int: ...
    @property
    def heads(self) -> int: ...
    @property
    def width(self) -> int:
        """Embedding width C."""
    @property
    def context(self) -> int:
        """Longest window L the model reads."""
    @property
    def personas(self) -> int:
        """K heads on the trunk."""
    @property
    def bias(self) -> bool:
        """Biases in linear layers and LayerNorms."""
    @property
    def tie_weights(self) -> bool:
        """Every head's unembedding is tok_emb."""
    @property
    def gate(self) -> bool:
        """A learned gate over the heads from the trunk output."""
    @property
    def parameter_count(self) -> int:
        """Number of scalar parameters."""
    @property
    def training_flops_per_token(self) -> float:
        """Forward + backward FLOPs per token at window length `context` (PaLM's accounting)."""
    def __eq__(self, other: object) -> bool: ...

class TransformerForward:
    """What TransformerModel.forward computed: read-only outputs in the model's dtype, and
    the intermediates TransformerModel.backward needs."""

    @property
    def logits(self) -> npt.NDArray[np.floating]:
        """(K, B, L, 257) logits of every head."""
    @property
    def hidden(self) -> npt.NDArray[np.floating]:
        """(B, L, C) trunk output h."""
    @property
    def gate(self) -> Optional[npt.NDArray[np.floating]]:
        """(B, L, K) gate logits, or None without a gate."""

class TransformerPersona(Persona):
    """Head k of a float32 TransformerModel as a persona (kind 'transformer'), usable in a
    Mixture beside n-gram personas. It shares the model's parameters."""

    @property
    def head(self) -> int: ...

class TransformerModel:
    """A transformer hydra with a hand-written backward pass; float32 or float64."""

    def __init__(self, config: TransformerConfig, seed: int = 0, dtype: _FloatDType = "float32") -> None:
        """GPT-2 initialisation from a seed. ValueError for a bad config or dtype."""
    @property
    def config(self) -> TransformerConfig: ...
    @property
    def dtype(self) -> np.dtype:
        """float32 or float64: the dtype of parameters, outputs and gradients."""
    @property
    def layout(self) -> list[Tuple[str, Tuple[int, ...]]]:
        """[(name, shape), ...]: the parameter tensors in order, PyTorch's names and shapes."""
    def parameters(self) -> dict[str, npt.NDArray[np.floating]]:
        """name -> writable zero-copy view into the model's parameters (keeps the model alive)."""
    def forward(self, tokens: npt.ArrayLike) -> TransformerForward:
        """B windows of L tokens, (B, L) integers in 0..256 with 1 <= L <= context.

        TypeError for non-integer tokens, ValueError for a bad shape, IndexError for a token out of range.
        """
    def backward(
        self,
        forward_result: TransformerForward,
        dlogits: npt.NDArray[np.floating],
        dgate: Optional[npt.NDArray[np.floating]] = None,
    ) -> dict[str, npt.NDArray[np.floating]]:
        """Gradients name -> array (the parameters' shapes) given dL/dlogits (K, B, L, 257) and
        dL/dgate (B, L, K) or None (zero).

        The arrays must have the model's dtype (TypeError naming them) and these shapes
        (ValueError); forward_result must come from this model (ValueError).
        """
    def save(self, path: _PathLike) -> None:
        """Writes config and parameters (in the model's dtype) to a safetensors file, atomically."""
    @staticmethod
    def load(path: _PathLike) -> TransformerModel:
        """A model saved by save(), in the stored dtype. FileError on any problem with the file."""
    def persona(self, k: int) -> TransformerPersona:
        """Head k as a Persona (float32 models only: ValueError otherwise). IndexError outside 0..K-1."""
    def adamw_step(
        self,
        grads: npt.NDArray[np.float32],
        m: npt.NDArray[np.float32],
        v: npt.NDArray[np.float32],
        *,
        lr: float,
        step: int,
        beta1: float = 0.9,
        beta2: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.1,
        grad_scale: float = 1.0,
    ) -> None:
        """One step of the trainer's AdamW on the parameters, in place (float32 models only).

        grads, m and v are flat float32 arrays in the layout's order (m and v updated in place:
        writable and contiguous); step is the 1-based step count; weight decay only on rank-2
        tensors. TypeError for another dtype, ValueError for another shape, step < 1 or float64.
        """

# ---------------------------------------------------------------- training records

class TransformerData:
    """Training text for transformer personas: a token stream per persona ("256 doc 256 doc ...")
    and a held-out stream each."""

    @staticmethod
    def from_text(text: _Text, heldout: float = 0.1, name: _Text = "text") -> TransformerData:
        """One persona: the text's bytes, the last `heldout` share held out."""
    @staticmethod
    def from_corpus(corpus: Corpus, heldout: float = 0.1, seed: int = 0) -> TransformerData:
        """One persona per corpus persona; documents split with Corpus.split."""
    @property
    def personas(self) -> list[str]: ...
    @property
    def train_tokens(self) -> list[int]: ...
    @property
    def heldout_tokens(self) -> list[int]: ...

class TransformerProgress:
    """One training step, as progress callbacks see it."""

    @property
    def step(self) -> int: ...
    @property
    def steps(self) -> int: ...
    @property
    def loss(self) -> float:
        """This step's training loss, nats per token."""
    @property
    def learning_rate(self) -> float: ...
    @property
    def grad_norm(self) -> float:
        """Global gradient norm before clipping."""
    @property
    def tokens_per_second(self) -> float: ...
    @property
    def eval_loss(self) -> Optional[float]:
        """Held-out loss (nats per token) if evaluated at this step, else None."""

class TransformerTrainer:
    """Trains a transformer hydra (a head per persona of the data) in C++: AdamW, warmup +
    cosine, clipping, seeded minibatches. Defaults are nanoGPT's CPU run. Ctrl-C stops
    training with KeyboardInterrupt (the steps done are kept)."""

    def __init__(
        self,
        data: TransformerData,
        config: TransformerConfig = ...,
        objective: Literal["supervised", "mixture", "gate"] = "supervised",
        gate_posterior: bool = False,
        batch: int = 12,
        steps: int = 2000,
        lr: float = 1e-3,
        min_lr: float = 1e-4,
        warmup: int = 100,
        beta1: float = 0.9,
        beta2: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.1,
        clip: float = 1.0,
        seed: int = 1,
        eval_every: int = 250,
        eval_windows: int = 200,
        threads: int = 0,
        checkpoint: Optional[Union[str, os.PathLike[str]]] = None,
        checkpoint_every: int = 0,
        progress: Optional[Callable[[TransformerProgress], object]] = None,
    ) -> None:
        """A fresh model (config.personas becomes the data's persona count). ValueError names a bad setting."""
    @staticmethod
    def resume(
        path: Union[str, os.PathLike[str]],
        data: TransformerData,
        checkpoint: Optional[Union[str, os.PathLike[str]]] = None,
        checkpoint_every: int = 0,
        progress: Optional[Callable[[TransformerProgress], object]] = None,
    ) -> TransformerTrainer:
        """Continues a run from save_checkpoint's file with the same data, bit for bit."""
    def update(self) -> TransformerProgress:
        """One optimiser update on the next batch (no callback, no evaluation)."""
    def run(self) -> TransformerProgress:
        """Steps until `steps`, evaluating, checkpointing and calling progress."""
    def evaluate(self) -> float:
        """Mean held-out loss per token under the objective (nats)."""
    def save_checkpoint(self, path: Union[str, os.PathLike[str]]) -> None:
        """Model, optimiser state, step and generator, written atomically."""
    @property
    def steps_done(self) -> int: ...
    @property
    def personas(self) -> list[str]: ...
    @property
    def model(self) -> TransformerModel:
        """The model being trained (shared: its parameters() are live views)."""
    def mixture(self, switching: str = "fixed_share", alpha: float = 1e-3, beta: float = 1.0) -> Mixture:
        """The heads as personas of a Mixture (prior: each persona's share of the training tokens)."""

class TrainProgress:
    """Where a training run is (given to progress callbacks)."""

    @property
    def stage(self) -> str:
        """'order' (trying order `name`), 'persona' (fitting persona `name`; '' for the
        background), 'alpha' (scoring a grid point), 'calibration' (fitting the attribution
        beta) or 'refit' (fitting persona `name` on the whole corpus)."""
    @property
    def name(self) -> str:
        """Persona name, or the alpha value as text."""
    @property
    def done(self) -> int:
        """Steps of this stage finished."""
    @property
    def total(self) -> int:
        """Steps of this stage in all."""

class TrainCells:
    """How Mixture.fit counts: cells of documents (one persona, one calibration fold, one side of the held-out
    split), each counted once at `order`; Mixture.fit(..., counter=f) hands them to f for their NGramCounts."""

    @property
    def order(self) -> int: ...
    @property
    def names(self) -> list[str]: ...
    @property
    def folds(self) -> int: ...
    @property
    def cell_of(self) -> list[int]:
        """The cell of each document of the corpus."""
    @property
    def documents(self) -> list[int]: ...
    @property
    def size(self) -> int: ...
    def cell(self, persona: int, fold: int, heldout: bool) -> int: ...

class TrainReport:
    """What training chose (order, background weights, alpha, attribution beta) and the
    held-out figures it chose them by."""

    @property
    def alpha(self) -> float:
        """The alpha of the returned mixture's filter (the compression rate)."""
    @property
    def alpha_compression(self) -> float:
        """The rate maximising the held-out likelihood of the text (= alpha)."""
    @property
    def alpha_segmentation(self) -> float:
        """The rate maximising log p(true speakers | text) on the held-out documents joined
        end to end, read by smooth() and attribute_spans() (-1.0 when not fitted)."""
    @property
    def beta_segmentation(self) -> float:
        """The tempering fitted with alpha_segmentation."""
    @property
    def segmentation_switches(self) -> int:
        """Changes of speaker in the joined held-out stream."""
    @property
    def alpha_grid(self) -> list[float]:
        """The candidates scored (empty when alpha was not fitted)."""
    @property
    def heldout_bits(self) -> list[float]:
        """Held-out bits per byte of each candidate."""
    @property
    def heldout_documents(self) -> int:
        """Documents in the held-out stream."""
    @property
    def order(self) -> int:
        """The n-gram order of the returned mixture."""
    @property
    def orders(self) -> list[int]:
        """The orders tried (empty unless order='auto')."""
    @property
    def order_heldout_bits(self) -> list[float]:
        """Held-out bits per byte of the pile at each order tried (at its best alpha)."""
    @property
    def background_weights(self) -> list[float]:
        """Per persona, lambda: its own model's share against the background (empty without)."""
    @property
    def attribution_beta(self) -> float:
        """The attribution beta of the returned mixture at 300 bytes (1.0 when not calibrated)."""
    @property
    def attribution_exponent(self) -> float:
        """Its decay with the document's length (0.0 when not calibrated)."""
    @property
    def attribution_own_weight(self) -> float:
        """The own share of attribute()'s evidence chosen on held-out segments (-1.0: the masks as fitted)."""
    @property
    def attribution_order(self) -> int:
        """The n-gram order of attribute()'s evidence chosen on held-out segments (0: not calibrated)."""
    @property
    def attribution_candidates(self) -> list[float]:
        """The own shares tried (-1.0 first: the masks' own fitted weights)."""
    @property
    def attribution_candidate_orders(self) -> list[int]:
        """The order of each candidate (the masks' order first, then each of attribution_orders)."""
    @property
    def attribution_candidate_logloss(self) -> list[float]:
        """Held-out log-loss of the true persona (nats per segment) at each, its tempering fitted."""
    @property
    def calibration_lengths(self) -> list[int]:
        """Segment lengths (bytes) the beta was fitted on."""
    @property
    def calibration_segments(self) -> list[int]:
        """Held-out segments of each length."""
    @property
    def ece_before_by_length(self) -> list[float]:
        """ECE (10 bins) of attribute() at beta 1, per length."""
    @property
    def ece_after_by_length(self) -> list[float]:
        """ECE at the fitted beta, per length."""
    @property
    def ece_before(self) -> float:
        """ECE of all calibration segments at beta 1."""
    @property
    def ece_after(self) -> float:
        """ECE of all calibration segments at the fitted beta."""
    @property
    def train_seconds(self) -> float:
        """Wall time of the training run."""

# ---------------------------------------------------------------- results

class Trace:
    """The inspection record of a text, one row per token (no end boundary).

    Arrays are read-only. str() / repr() give a table of the first and last rows.
    """

    @property
    def weights(self) -> npt.NDArray[np.float32]:
        """(T, K) weight of each persona before each token (steered)."""
    @property
    def log_weights(self) -> npt.NDArray[np.float32]:
        """(T, K) natural-log weights before each token."""
    @property
    def persona_logprobs(self) -> npt.NDArray[np.float32]:
        """(T, K) log p_k(x_t | x_<t) of each persona."""
    @property
    def logprobs(self) -> npt.NDArray[np.float32]:
        """(T,) log p(x_t | x_<t) under the mixture."""
    @property
    def entropy(self) -> npt.NDArray[np.float32]:
        """(T,) entropy of the weights before each token, nats."""
    @property
    def dominant(self) -> npt.NDArray[np.int32]:
        """(T,) the persona with the largest weight before each token."""
    @property
    def tokens(self) -> npt.NDArray[np.int32]:
        """(T,) the traced tokens."""
    @property
    def text(self) -> bytes:
        """The traced bytes (a boundary token shows as a newline)."""
    @property
    def personas(self) -> list[str]:
        """The persona names (the columns)."""
    @property
    def total_logprob(self) -> float:
        """Natural-log probability of all traced tokens under the mixture (a float64 sum)."""
    def __len__(self) -> int: ...
    @overload
    def to_html(
        self, path: None = None, *, title: str = "simulacra trace", chart_columns: int = 2000, views: bool = True
    ) -> str: ...
    @overload
    def to_html(
        self, path: _PathLike, *, title: str = "simulacra trace", chart_columns: int = 2000, views: bool = True
    ) -> None:
        """The trace explorer: one self-contained HTML page (no network) with the text coloured by mask in
        the filtered, smoothed and Viterbi views (the last two from the mixture as it was when traced; none
        under 'forgetting' or with views=False), every mask's weight on hover, a stacked chart of the weights
        (at most chart_columns columns) and a table per mask. Written atomically to path, or returned as a
        str when path is None. ValueError for chart_columns=0; FileError when path cannot be written."""
    def summary(self) -> dict[str, Any]:
        """tokens, total_logprob, bits_per_token, leader_changes, and per persona name lead_share, mean_weight and
        final_weight."""
    def table(self, max_rows: int = 0) -> str:
        """The trace as a plain-text table; max_rows > 0 shows only the first and last rows."""
    def to_pandas(self) -> "pandas.DataFrame":  # type: ignore[name-defined]  # noqa: F821
        """The trace as a pandas DataFrame, one row per token: position, token, char, weight_<name>
        and logprob_<name> per persona (pile order), logprob (the mixture's), entropy, dominant (a
        categorical of persona names). ImportError naming pandas when it is not installed."""

class Prediction:
    """What the mixture predicts for the next token."""

    @property
    def weights(self) -> npt.NDArray[np.float32]:
        """(K,) steered weights."""
    @property
    def log_weights(self) -> npt.NDArray[np.float32]:
        """(K,) natural-log steered weights."""
    @property
    def persona_logprobs(self) -> npt.NDArray[np.float32]:
        """(K, 257) log p_k(next token | context) of each persona."""
    @property
    def logprobs(self) -> npt.NDArray[np.float32]:
        """(257,) log p(next token | context) of the mixture."""
    @property
    def personas(self) -> list[str]: ...

class Ablation:
    """What Mixture.ablate returns: use it in a `with` statement. Inside the block
    every call on the pile from this thread (or asyncio task) sees the ablation;
    other threads and the pile itself do not. Blocks may end in any order."""

    def __enter__(self) -> Mixture: ...
    def __exit__(self, exc_type: object, exc_value: object, traceback: object) -> bool: ...
    @property
    def active(self) -> bool:
        """True inside the `with` block."""

class State:
    """One reader of a text: every persona's state plus the posterior filter (from Mixture.begin())."""

    def step(self, token_or_text: Union[int, _Text, _Tokens]) -> float:
        """Consumes one token (256 is the boundary), a text, or a sequence of tokens;
        returns the mixture's log-probability of what was consumed. IndexError for a token outside 0..256.
        Atomic: a bad token or KeyboardInterrupt leaves the state as it was."""
    @property
    def weights(self) -> npt.NDArray[np.float32]:
        """(K,) steered weights before the next token."""
    @property
    def log_weights(self) -> npt.NDArray[np.float32]:
        """(K,) natural-log steered weights before the next token."""
    @property
    def personas(self) -> list[str]: ...
    def predict(self) -> Prediction:
        """The next-token prediction."""
    def copy(self) -> State:
        """An independent copy (for look-ahead)."""
    def __copy__(self) -> State: ...

class GenerationStep:
    """One generated token, as an on_step callback sees it."""

    @property
    def index(self) -> int:
        """0-based index of the generated token."""
    @property
    def token(self) -> int:
        """The token drawn (256: the boundary)."""
    @property
    def persona(self) -> Optional[str]:
        """The persona that spoke it (mode='persona'), else None."""
    @property
    def weights(self) -> npt.NDArray[np.float32]:
        """(K,) steered weights before the token."""
    @property
    def logprobs(self) -> npt.NDArray[np.float32]:
        """(257,) log-probabilities the token was drawn from, before the sampler chain
        (the mixture's, or the speaking persona's in mode='persona')."""
    def top_k(self, k: int = 10) -> list[Tuple[builtins.bytes, float]]:
        """The k most likely next tokens of that distribution, [(token bytes, probability)],
        most likely first; the boundary is b""."""

class Generation:
    """A generated continuation (the prompt excluded). str() is its text."""

    @property
    def text(self) -> str:
        """The generated text (invalid UTF-8 replaced; the boundary left out)."""
    @property
    def bytes(self) -> builtins.bytes:
        """The generated bytes, exactly."""
    @property
    def tokens(self) -> npt.NDArray[np.int32]:
        """(T,) generated tokens, a final boundary included."""
    @property
    def weights(self) -> npt.NDArray[np.float32]:
        """(T, K) steered weights before each generated token."""
    @property
    def log_weights(self) -> npt.NDArray[np.float32]:
        """(T, K) natural-log steered weights."""
    @property
    def personas(self) -> list[Optional[str]]:
        """(T) the persona that spoke each token (mode='persona'), else None for each."""
    def __len__(self) -> int: ...

class Stream:
    """What Mixture.stream returns: an iterator yielding each generated token as bytes (one
    byte, or b"" for the document boundary) as soon as it is drawn, the tokens generate()
    returns with the same arguments. Breaking out of the loop is enough to stop; close() (or
    leaving a `with` block) frees it at once, after which it yields nothing."""

    def __iter__(self) -> Iterator[bytes]: ...
    def __next__(self) -> bytes: ...
    def close(self) -> None:
        """Stops the stream: it frees its reader and yields nothing more. Closing twice is fine."""
    def __enter__(self) -> "Stream": ...
    def __exit__(self, exc_type: object, exc_value: object, traceback: object) -> bool: ...
    @property
    def closed(self) -> bool:
        """True after close() or the end of a `with` block."""
    @property
    def done(self) -> bool:
        """True once the stream yields nothing more (max_tokens drawn, the boundary drawn, or closed)."""
    @property
    def tokens(self) -> npt.NDArray[np.int32]:
        """(T,) tokens drawn so far (empty once closed)."""
    @property
    def bytes(self) -> builtins.bytes:
        """The bytes drawn so far, the boundary left out (empty once closed)."""
    @property
    def weights(self) -> npt.NDArray[np.float32]:
        """(T, K) steered weights before each token drawn so far."""

# ---------------------------------------------------------------- analysis results

class Vote:
    """The answer of every persona, and of the mixture, to one multiple-choice question
    (Mixture.vote). K personas, M options; natural logs. The pile answers in three readings, each
    summing to 1 over the options: mixture_choice (the linear pool), per_byte_choice (length taken
    out) and plurality (the weight of the masks whose own answer each option is). repr() is a table."""

    @property
    def persona_logprobs(self) -> npt.NDArray[np.float32]:
        """(K, M) log p_k(option | prompt) of each persona alone, summed over the option's tokens."""
    @property
    def mixture_logprobs(self) -> npt.NDArray[np.float32]:
        """(M,) log p(option | prompt) under the (steered) mixture."""
    @property
    def persona_choice(self) -> npt.NDArray[np.float32]:
        """(K, M) each persona's option probabilities, normalised over the options."""
    @property
    def mixture_choice(self) -> npt.NDArray[np.float32]:
        """(M,) the linear pool: the mixture's option probabilities, normalised over the options
        (with beta = 1, no switching and no product steering exactly sum_k w_k p_k(option))."""
    @property
    def prompt_weights(self) -> npt.NDArray[np.float32]:
        """(K,) steered persona weights after reading the prompt."""
    @property
    def per_byte_logprobs(self) -> npt.NDArray[np.float32]:
        """(M,) mixture_logprobs divided by each option's length in bytes."""
    @property
    def per_byte_choice(self) -> npt.NDArray[np.float32]:
        """(M,) exp(per_byte_logprobs) normalised over the options."""
    @property
    def persona_answers(self) -> npt.NDArray[np.int32]:
        """(K,) each persona's own answer: the index of its most likely option (ties: the lower index)."""
    @property
    def plurality(self) -> npt.NDArray[np.float32]:
        """(M,) the sum of prompt_weights over the personas whose own answer each option is."""
    @property
    def options(self) -> list[str]:
        """The options (columns)."""
    @property
    def personas(self) -> list[str]:
        """The persona names (rows)."""

class SwitchEvidence:
    """The weight of persona b while the mixture reads text_b after text_a (a mask swap)."""

    @property
    def weight_b(self) -> npt.NDArray[np.float32]:
        """(T_b,) weight of persona b before each token of text_b (weight_b[0]: after all of text_a)."""
    @property
    def tokens_to_half(self) -> Optional[int]:
        """First t with weight_b[t] > 0.5, or None if never."""
    @property
    def tokens_to_90(self) -> Optional[int]:
        """First t with weight_b[t] > 0.9, or None if never."""
    def __len__(self) -> int: ...

class Attribution:
    """Who spoke when: the Viterbi attribution of a text to masks (Mixture.attribute_spans)."""

    @property
    def path(self) -> npt.NDArray[np.int32]:
        """(T,) most likely persona per token (Viterbi)."""
    @property
    def spans(self) -> list[Tuple[int, int, str]]:
        """The path as maximal runs (begin, end, persona name), tiling [0, T) in order."""
    @property
    def log_joint(self) -> float:
        """Natural-log p(path, tokens) of the best path."""
    @property
    def filtered(self) -> npt.NDArray[np.int32]:
        """(T,) online dominant persona before each token (as Trace.dominant)."""
    @property
    def personas(self) -> list[str]: ...
    def __len__(self) -> int: ...

class Smoothed:
    """Who was speaking at each token given the whole text (Mixture.smooth). Arrays are float64."""

    @property
    def weights(self) -> npt.NDArray[np.float64]:
        """(T, K) p(mask k spoke token t | the whole text); rows sum to 1."""
    @property
    def dominant(self) -> npt.NDArray[np.int32]:
        """(T,) the most probable mask at each token."""
    @property
    def log_likelihood(self) -> float:
        """Natural-log p(text) under the HMM (beta = 1: the trace's total_logprob)."""
    @property
    def tokens(self) -> npt.NDArray[np.int32]: ...
    @property
    def personas(self) -> list[str]: ...
    def __len__(self) -> int: ...

class FixedShareEm:
    """A fixed-share rate fitted by Baum-Welch (fit_fixed_share_em)."""

    alpha: float
    """The fitted rate."""
    alphas: list[float]
    """The rate at each iteration (the first: initial_alpha)."""
    log_likelihood: list[float]
    """Natural-log p(stream) at each of alphas (never falls)."""

class TransitionEm:
    """A transition matrix fitted by Baum-Welch (fit_transition_em)."""

    @property
    def transition(self) -> npt.NDArray[np.float64]:
        """(K, K) the fitted row-stochastic matrix."""
    log_likelihood: list[float]
    """Natural-log p(stream) at each iteration's matrix (never falls)."""

class SegmentationFit:
    """Fixed-share rates for segmentation and compression on the same held-out streams."""

    alpha_segmentation: float
    """The rate maximising sum log p(true persona sequence | text) (at beta_segmentation)."""
    beta_segmentation: float
    """The tempering it was fitted at (the mixture's beta without a beta_grid)."""
    alpha_compression: float
    """The rate maximising sum log p(text)."""
    segmentation_nats: float
    compression_nats: float
    grid: list[float]
    grid_segmentation: list[float]
    grid_compression: list[float]
    tokens: int
    switches: int

def fit_fixed_share_em(
    mixture: Mixture,
    stream: Union[_Text, _Tokens],
    max_iterations: int = 200,
    tolerance: float = 1e-10,
    initial_alpha: float = 1e-3,
) -> FixedShareEm:
    """Baum-Welch for the fixed-share rate on an unlabelled stream (max log p(stream) under the
    mixture's prior, beta and switch points). ValueError for an empty stream or bad options."""

def fit_transition_em(
    mixture: Mixture,
    stream: Union[_Text, _Tokens],
    initial: Optional[npt.ArrayLike] = None,
    max_iterations: int = 200,
    tolerance: float = 1e-10,
    initial_alpha: float = 1e-3,
) -> TransitionEm:
    """Baum-Welch for a (K, K) transition matrix from `initial` (None: fixed share at initial_alpha)."""

def fit_switching_segmentation(
    mixture: Mixture,
    documents: Union[Corpus, Sequence[Document]],
    part_bytes: int = 0,
    seed: int = 0,
    grid: Optional[Sequence[float]] = None,
    refine_iterations: int = 40,
    beta_grid: Optional[Sequence[float]] = None,
) -> SegmentationFit:
    """The fixed-share rates maximising log p(persona sequence | text) and log p(text) on one stream
    joining held-out documents (parts of >= part_bytes per persona, neighbours of different personas)."""

# ---------------------------------------------------------------- scoring discovered personas

_Labels = Union[Sequence[int], npt.NDArray[np.integer]]

def contingency_table(predicted: _Labels, truth: _Labels) -> npt.NDArray[np.int64]:
    """(K, L) counts, K = max(predicted) + 1, L = max(truth) + 1: entry (i, j) counts the items with
    discovered persona i and true label j. ValueError for lengths that differ, empty input, a
    negative label or a table beyond 2**26 entries; TypeError for non-integer labels."""

def normalized_mutual_info(predicted: _Labels, truth: _Labels) -> float:
    """MI / ((H(U) + H(V)) / 2) in natural logs (scikit-learn's default arithmetic normalisation),
    symmetric, in [0, 1]; 1 when both have a single label, 0 when the mutual information is 0
    otherwise. ValueError for lengths that differ, empty input or a negative label."""

def adjusted_rand_index(predicted: _Labels, truth: _Labels) -> float:
    """Adjusted Rand index (Hubert & Arabie), as scikit-learn's adjusted_rand_score: 1 for identical
    partitions, about 0 for independent ones, down to -0.5. Checked as normalized_mutual_info."""

def purity(predicted: _Labels, truth: _Labels) -> float:
    """(1/n) sum_i max_j n_ij: the share of items carrying their discovered persona's most common
    true label. Not symmetric; 1 when every item is its own cluster."""

def max_weight_assignment(weight: npt.ArrayLike) -> npt.NDArray[np.int32]:
    """(R,) the distinct column of each row of weight (R, C) maximising the sum of the chosen
    entries, -1 for the R - C rows left out when R > C (Hungarian method). ValueError for an empty
    matrix, a non-finite entry or another shape; TypeError for non-real entries."""

class PersonaMatch:
    """Discovered personas matched one to one with true labels (match_personas). K = max(predicted) + 1,
    L = max(truth) + 1, N = max(K, L)."""

    @property
    def mapping(self) -> npt.NDArray[np.int32]:
        """(K,) the label matched to each discovered persona, -1 for one left unmatched (K > L)."""
    @property
    def order(self) -> npt.NDArray[np.int32]:
        """(N,) the discovered persona of each column of confusion (the one matched to label j for
        j < L, then the unmatched ones); -1 for a label no persona was matched to."""
    @property
    def confusion(self) -> npt.NDArray[np.int64]:
        """(N, N) items with true label j (row) and discovered persona order[c] (column c); the
        matched pairs on the diagonal."""
    matched: int
    """Items whose persona is matched to their label (the trace of confusion)."""
    accuracy: float
    """matched / n."""

def match_personas(predicted: _Labels, truth: _Labels) -> PersonaMatch:
    """The one-to-one matching of discovered personas to labels maximising the items in matched pairs
    (Hungarian method on the contingency table). Checked as contingency_table."""

class BoundaryScore:
    """Precision, recall and F1 of predicted boundaries (boundary_f1)."""

    precision: float
    """matched / predicted (1 when nothing is predicted)."""
    recall: float
    """matched / truth (1 when there is no true boundary)."""
    f1: float
    """2 P R / (P + R) (0 when P + R = 0)."""
    matched: int
    predicted: int
    truth: int

def boundary_f1(predicted: _Labels, truth: _Labels, tolerance: int = 0) -> BoundaryScore:
    """Boundaries are byte positions (any order); a predicted and a true one pair when
    |p - t| <= tolerance, each at most once, as many pairs as possible (a maximum matching).
    ValueError for a negative tolerance or position, or a position given twice in one list."""

def label_boundaries(labels: _Labels) -> npt.NDArray[np.int64]:
    """The positions t >= 1 where labels[t] != labels[t - 1], increasing (e.g. of Smoothed.dominant)."""
# ---------------------------------------------------------------- discovery

_Smoothing = Literal["dirichlet", "expected_kneser_ney", "ekn", "kneser_ney"]

def fit_weighted(
    texts: Union[Corpus, Sequence[_Text]],
    weights: npt.ArrayLike,
    order: int,
    smoothing: _Smoothing = "dirichlet",
    mu: float = 2.0,
) -> NGramPersona:
    """An n-gram persona of weighted documents (weights >= 0; 0: absent): interpolated Dirichlet on expected
    counts, or expected Kneser-Ney (weights in [0, 1]). ValueError naming a bad weight, size or mu."""

class KMeans:
    """k-means++ and Lloyd iterations (kmeans): the kept restart."""

    @property
    def assignments(self) -> npt.NDArray[np.int32]:
        """(N,) cluster of each point."""
    @property
    def centroids(self) -> npt.NDArray[np.float64]:
        """(k, D) the centres."""
    objective: float
    """Sum of squared distances to the assigned centres."""
    objective_history: list[float]
    """The objective after each assignment step of the kept restart (never increases)."""
    restart_objectives: list[float]
    restart: int
    iterations: int

def kmeans(
    points: Union[npt.ArrayLike, Corpus, Sequence[_Text]],
    k: int,
    restarts: int = 4,
    max_iterations: int = 100,
    seed: int = 0,
    min_n: int = 3,
    max_n: int = 5,
    sublinear_tf: bool = True,
    idf: bool = True,
) -> KMeans:
    """k-means++ and Lloyd on an (N, D) array, or on texts' unit-norm TF-IDF byte n-gram profiles."""

class DiscoveryProgress:
    """Where a discovery run is (given to progress callbacks)."""

    k: int
    restart: int
    iteration: int
    log_likelihood: float

class Discovery:
    """The masks found by discover: the mixture and how each document was attributed."""

    @property
    def mixture(self) -> Mixture:
        """The discovered pile (K 'ngram' personas named mask0.. or by `names`, prior pi)."""
    @property
    def responsibilities(self) -> npt.NDArray[np.float64]:
        """(N, K) p(mask k wrote document d) under the returned mixture (one-hot with hard EM)."""
    @property
    def assignments(self) -> npt.NDArray[np.int32]:
        """(N,) the most responsible mask of each document."""
    @property
    def log_likelihoods(self) -> list[float]:
        """Per EM iteration: sum over training documents of log sum_k pi_k p_k(d)."""
    @property
    def objective(self) -> list[float]:
        """Per EM iteration: the objective EM climbs (log-likelihood + log Dirichlet prior, + const)."""
    @property
    def heldout_log_likelihood(self) -> float: ...
    @property
    def heldout(self) -> npt.NDArray[np.int32]:
        """(H,) indices of the held-out documents."""
    @property
    def restart_scores(self) -> list[float]: ...
    @property
    def annealed(self) -> bool: ...
    @property
    def restart(self) -> int: ...
    @property
    def k(self) -> int:
        """The number of masks (the chosen one when k was a range)."""
    @property
    def k_values(self) -> list[int]: ...
    @property
    def heldout_by_k(self) -> list[float]:
        """Held-out log-likelihood of the best run at each of k_values."""
    @property
    def seconds(self) -> float: ...
    def describe(self, texts: Union[Sequence[_Text], Corpus], n: int = 4, top: int = 8, min_count: float = 5.0,
                 sample_bytes: int = 80, seed: int = 0) -> list[MaskDescription]:
        """What each mask is: describe_masks(self.mixture, texts, self.responsibilities, ...), texts being the
        documents discover() was given."""

class CharacteristicNGram:
    """An n-gram that marks a mask (describe_masks)."""

    @property
    def ngram(self) -> bytes: ...
    @property
    def count(self) -> float:
        """Its weighted count under the mask, sum_d r_dk n_d(g)."""
    @property
    def lift(self) -> float:
        """log(its share of the mask's n-grams / its share of all n-grams), natural log."""

class MaskDescription:
    """What one discovered mask is: its most characteristic n-grams and a sample of its own."""

    @property
    def name(self) -> str: ...
    @property
    def bytes(self) -> float:
        """The text it took: sum_d r_dk |d|."""
    @property
    def ngrams(self) -> list[CharacteristicNGram]: ...
    @property
    def sample(self) -> builtins.bytes: ...

def describe_masks(mixture: Mixture, texts: Union[Sequence[_Text], Corpus], responsibilities: npt.ArrayLike,
                   n: int = 4, top: int = 8, min_count: float = 5.0, sample_bytes: int = 80,
                   seed: int = 0) -> list[MaskDescription]:
    """What each mask is: its most characteristic byte n-grams of length n (the lift
    log(c_k(g) / C_k) - log(c(g) / C) of the responsibility-weighted counts, among those with
    c_k(g) >= min_count) and a sample of sample_bytes from the mask alone (seed + k).
    responsibilities: (N, K) weights of the documents (one-hot for labels). ValueError for a bad shape."""

def discovery_beta(iteration: int, iterations: int = 40, beta: float = 1.0, anneal: float = 0.1) -> float:
    """The E-step tempering discover uses after M-step `iteration` (1-based): beta * anneal^(1 - (iteration - 1)
    / H) up to H = iterations // 2 (0 when anneal is 1), beta after."""

def discover(
    texts: Union[Corpus, Sequence[_Text]],
    k: Union[int, Sequence[int], range],
    order: int = 2,
    smoothing: _Smoothing = "dirichlet",
    mu: float = 2.0,
    iterations: int = 40,
    tolerance: float = 1e-7,
    restarts: int = 3,
    hard: bool = False,
    beta: float = 1.0,
    anneal: float = 0.1,
    heldout_fraction: float = 0.1,
    seed: int = 0,
    names: Optional[Sequence[_Text]] = None,
    initial_responsibilities: Optional[npt.ArrayLike] = None,
    progress: Union[None, bool, Callable[[DiscoveryProgress], None]] = None,
    block_documents: int = 1024,
    executor: Optional[Any] = None,
) -> Discovery:
    """Finds k masks in unlabelled documents by EM over documents (k-means++ restarts, the best held-out
    likelihood kept; the E-step's tempering annealed from anneal * beta to beta over the first half of the
    iterations, discovery_beta); k may be a range, the k with the best held-out likelihood is kept. block_documents: the
    M-step sums each block's fractional counts, then the blocks in order. executor: an object with shards (int),
    distribute(list of DiscoveryShard), loglik((P, K) array) -> (N, K) array and counts((N, K) array) -> list of
    bytes, where the E-step and the counting run (simulacra.dask.discover); None: here."""

class DiscoveryShard:
    """Documents [begin, begin + size) of a discovery (whole blocks): their predictive n-grams, for the E-step
    and the M-step's counting elsewhere. Pickles through to_bytes."""

    @property
    def begin(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def num_predictive(self) -> int:
        """P, the rows of log_theta."""
    @property
    def block_documents(self) -> int: ...
    def loglik(self, log_theta: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """(size, K) log p_k(d) of its documents given (P, K) log_theta."""
    def counts(self, responsibilities: npt.ArrayLike) -> bytes:
        """The block counts of its training documents given their (size, K) responsibilities, serialised."""
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> DiscoveryShard: ...

class SegmentDiscovery:
    """Masks discovered in one unlabelled stream (discover_segments): the pile of the EM iteration that
    explained the stream best, its smoothed weights and Viterbi path, one row per byte of the stream."""

    @property
    def mixture(self) -> Mixture:
        """The discovered pile (a copy): masks 'mask0'.. or the names given, the learned switching."""
    @property
    def weights(self) -> npt.NDArray[np.float64]:
        """(T, K) float64 p(mask k wrote byte t | the stream); rows sum to 1."""
    @property
    def path(self) -> npt.NDArray[np.int32]:
        """(T,) int32 the Viterbi path: the mask of each byte."""
    @property
    def chunk_starts(self) -> list[int]:
        """Byte offset of each chunk the M-step weighted."""
    @property
    def log_likelihood(self) -> list[float]:
        """log p(stream) in nats after each EM iteration; the kept pile has the largest."""
    @property
    def iterations(self) -> int: ...

def discover_segments(
    stream: _Text,
    k: int,
    order: int = 4,
    smoothing: Literal["dirichlet", "expected_kneser_ney"] = "dirichlet",
    mu: float = 2.0,
    iterations: int = 10,
    tolerance: float = 1e-6,
    chunk_bytes: int = 256,
    switching: Literal["transition", "fixed_share"] = "transition",
    initial_alpha: float = 1e-3,
    switch_after: _SwitchAfter = None,
    kmeans_restarts: int = 4,
    seed: int = 0,
    names: Optional[Sequence[_Text]] = None,
) -> SegmentDiscovery:
    """Finds k masks that take turns inside one unlabelled stream by EM over the persona HMM: one
    forward-backward per iteration gives the responsibilities and the expected switches (Baum-Welch for a
    K x K transition matrix, or the fixed-share rate); every persona is refitted on the stream's chunks of
    about chunk_bytes (cut after a switch point when switch_after is given), weighted by their mean
    responsibility. Starts from k-means++ on the chunks' profiles; keeps the iteration with the highest
    log p(stream). ValueError naming a bad argument (an empty stream, more masks than chunks, ...)."""

class RawView:
    """What every mask and the pile would say next after a context (Mixture.raw_view).

    Tokens are bytes: one byte, or b"" for the document boundary. Probabilities
    are linear. str() is an aligned table.
    """

    @property
    def weights(self) -> npt.NDArray[np.float32]:
        """(K,) steered weights after the context."""
    @property
    def personas(self) -> dict[str, list[Tuple[bytes, float]]]:
        """{name: [(token, prob), ...]} each persona's top tokens, most likely first."""
    @property
    def mixture(self) -> list[Tuple[bytes, float]]:
        """[(token, prob), ...] the mixture's top tokens, most likely first."""

# ---------------------------------------------------------------- the mixture

_PersonaKeys = Union[_PersonaKey, Sequence[_PersonaKey]]
_PriorBias = Union[Mapping[Union[str, bytes], float], Sequence[float], npt.NDArray[np.floating]]
_Product = Tuple[_PersonaKey, _PersonaKey, float]
_Progress = Union[None, bool, Callable[[TrainProgress], object]]

class Mixture:
    """The pile of masks: personas with a prior, read as a posterior-weighted mixture.

    Steering arguments: clamp (one persona: weight 1), exclude (a persona or a
    sequence of them: weight 0), prior_bias (log biases added to log pi: a dict
    name -> bias or K numbers), product ((expert, anti_expert, lam): every
    prediction becomes p * (p_expert / p_anti_expert)**lam, renormalised, as
    DExperts does; the weights are untouched). Personas are given by name or
    index; an unknown name raises IndexError naming it. Pickles through the
    file format.
    """

    def __init__(
        self,
        personas: Sequence[_AnyPersona],
        names: Sequence[_Text],
        prior: Optional[npt.ArrayLike] = None,
        switching: _Switching = "none",
        alpha: float = 0.0,
        beta: float = 1.0,
        gamma: float = 1.0,
        transition: Optional[npt.ArrayLike] = None,
        switch_after: _SwitchAfter = None,
    ) -> None:
        """A mixture of K >= 1 personas with unique names.

        prior: K positive numbers (normalised), None for uniform. switching:
        'none', 'fixed_share' (rate alpha in [0, 1]), 'forgetting' (factor
        gamma in [0, 1]) or 'transition' (a (K, K) row-stochastic matrix).
        beta in (0, 1e289] tempers the likelihood (larger could overflow to NaN).
        switch_after: None (a switch may follow every token) or the tokens after
        which alone fixed share / the transition act: a str or bytes (its bytes,
        e.g. "\\n") or integer tokens; the document boundary always is one. Empty
        raises ValueError. ValueError / TypeError name a bad argument. A persona
        may be written in Python (a Persona subclass or any object with next_logprobs).
        """
    @overload
    @staticmethod
    def fit(
        corpus: Corpus,
        order: Union[int, Literal["auto"]] = "auto",
        background: bool = True,
        calibrate: bool = True,
        segmentation: bool = True,
        switching: _Switching = "fixed_share",
        alpha: Optional[float] = None,
        beta: float = 1.0,
        gamma: float = 1.0,
        transition: Optional[npt.ArrayLike] = None,
        heldout_fraction: float = 0.1,
        seed: int = 0,
        alpha_grid: Optional[Sequence[float]] = None,
        order_grid: Optional[Sequence[int]] = None,
        calibration_lengths: Optional[Sequence[int]] = None,
        progress: _Progress = None,
        return_report: Literal[False] = False,
        switch_after: _SwitchAfter = None,
        calibration_folds: int = 5,
        attribution_own_weights: Optional[Sequence[float]] = None,
        segmentation_part_bytes: int = 0,
        counter: Optional[Callable[[TrainCells], Sequence[NGramCounts]]] = None,
        fitter: Optional[
            Callable[[TrainCells, Sequence[Tuple[Sequence[int], int, bool]]], Sequence[NGramPersona]]
        ] = None,
        job_map: Optional[Callable[[int, Callable[[int], None]], Any]] = None,
        attribution_orders: Optional[Sequence[int]] = None,
    ) -> Mixture: ...
    @overload
    @staticmethod
    def fit(
        corpus: Corpus,
        order: Union[int, Literal["auto"]] = "auto",
        background: bool = True,
        calibrate: bool = True,
        segmentation: bool = True,
        switching: _Switching = "fixed_share",
        alpha: Optional[float] = None,
        beta: float = 1.0,
        gamma: float = 1.0,
        transition: Optional[npt.ArrayLike] = None,
        heldout_fraction: float = 0.1,
        seed: int = 0,
        alpha_grid: Optional[Sequence[float]] = None,
        order_grid: Optional[Sequence[int]] = None,
        calibration_lengths: Optional[Sequence[int]] = None,
        progress: _Progress = None,
        *,
        return_report: Literal[True],
        switch_after: _SwitchAfter = None,
        calibration_folds: int = 5,
        attribution_own_weights: Optional[Sequence[float]] = None,
        segmentation_part_bytes: int = 0,
        counter: Optional[Callable[[TrainCells], Sequence[NGramCounts]]] = None,
        fitter: Optional[
            Callable[[TrainCells, Sequence[Tuple[Sequence[int], int, bool]]], Sequence[NGramPersona]]
        ] = None,
        job_map: Optional[Callable[[int, Callable[[int], None]], Any]] = None,
        attribution_orders: Optional[Sequence[int]] = None,
    ) -> Tuple[Mixture, TrainReport]:
        """Trains one Kneser-Ney persona per persona of the corpus; the prior is the document shares.

        With fixed_share and alpha=None, alpha is chosen on a held-out share of
        the documents over alpha_grid (default: 0 .. 0.3); a number fixes it.
        progress: None, True (a tqdm bar when tqdm is installed) or a callable
        taking a TrainProgress (exceptions it raises propagate). Ctrl-C stops
        training with KeyboardInterrupt. Returns the Mixture, or
        (Mixture, TrainReport) with return_report=True. switch_after: as in Mixture().
        calibrate=True fits attribute()'s tempering on segments cross-fitted over calibration_folds
        folds, together with its evidence: the masks, or each persona's own model and the background
        mixed with one own share of attribution_own_weights (default 0.25, 0.5, 0.75, 1), the lowest
        held-out log-loss of the true persona winning (TrainReport.attribution_own_weight), at the
        chosen order and at each order of attribution_orders (default 2, 3, 4, 5; [] for the chosen order
        only: TrainReport.attribution_order, Mixture.attribution_order).
        segmentation=True fits the rate smooth() and attribute_spans() read on the held-out documents
        joined end to end; segmentation_part_bytes > 0 first joins each persona's documents into parts
        of at least that many bytes (for turns longer than the documents: the rate follows them).
        """
    def __len__(self) -> int:
        """K, the number of personas."""
    @property
    def personas(self) -> list[str]:
        """The persona names."""
    def persona(self, key: _PersonaKey) -> _AnyPersona:
        """The persona model of a name or index (a persona written in Python: the object given)."""
    def index_of(self, name: _Text) -> int:
        """The index of a persona; IndexError naming it if unknown."""
    @property
    def prior(self) -> npt.NDArray[np.float64]:
        """(K,) float64 normalised prior."""
    @property
    def switching(self) -> _Switching: ...
    @property
    def alpha(self) -> float:
        """Fixed-share rate."""
    @property
    def beta(self) -> float:
        """Likelihood tempering."""
    @property
    def gamma(self) -> float:
        """Forgetting factor."""
    @property
    def transition(self) -> Optional[npt.NDArray[np.float64]]:
        """(K, K) float64 transition matrix with switching='transition', else None."""
    @property
    def switch_after(self) -> Optional[list[int]]:
        """The sorted tokens given as switch points (the document boundary is one besides), or None
        when a switch may follow every token."""
    def smooth(self, text: Union[_Text, _Tokens]) -> Smoothed:
        """Smoothed posteriors of a text read from a document start (bytes or tokens, no end boundary
        added; the same tokens as trace): p(mask at t | whole text) by forward-backward under the
        switching rule, its switch points and beta. ValueError with switching='forgetting'."""
    def ablate(
        self,
        remove: Optional[_PersonaKeys] = None,
        reweight: Union[None, Mapping[Union[str, bytes], float], Sequence[float], npt.NDArray[np.floating]] = None,
    ) -> Ablation:
        """A context manager: removes personas (prior 0) and reweights others
        (prior times a factor, renormalised) for the calls this thread makes on
        the pile inside a `with` block, until it ends (exceptions included). The
        pile itself is not changed: other threads never see the ablation, and
        States begun inside keep it. ValueError for a negative or NaN factor or
        when no persona is left; IndexError for an unknown one."""
    def trace(
        self,
        text: Union[_Text, _Tokens],
        clamp: Optional[_PersonaKey] = None,
        exclude: Optional[_PersonaKeys] = None,
        prior_bias: Optional[_PriorBias] = None,
        product: Optional[_Product] = None,
    ) -> Trace:
        """The trace of a text read from a document start: its bytes, or a sequence of
        tokens (256 marks a document boundary). No end boundary is added. Ctrl-C
        stops it with KeyboardInterrupt, as it stops every long call (within about 20 ms)."""
    def score(
        self,
        text: _Text,
        clamp: Optional[_PersonaKey] = None,
        exclude: Optional[_PersonaKeys] = None,
        prior_bias: Optional[_PriorBias] = None,
        product: Optional[_Product] = None,
    ) -> float:
        """Natural-log probability of a document (its bytes and the end boundary)."""
    def bits_per_byte(
        self,
        text: _Text,
        clamp: Optional[_PersonaKey] = None,
        exclude: Optional[_PersonaKeys] = None,
        prior_bias: Optional[_PriorBias] = None,
        product: Optional[_Product] = None,
    ) -> float:
        """-score / (bytes * ln 2), the end boundary's cost included. ValueError for an empty text."""
    def perplexity(
        self,
        text: _Text,
        clamp: Optional[_PersonaKey] = None,
        exclude: Optional[_PersonaKeys] = None,
        prior_bias: Optional[_PriorBias] = None,
        product: Optional[_Product] = None,
    ) -> float:
        """exp(-score / (bytes + 1)): per-token perplexity of a document, the end boundary counted as a token."""
    def persona_perplexity(self, text: _Text) -> dict[str, float]:
        """Per-token perplexity of the document under each persona alone: {name: perplexity}."""
    def persona_bits_per_byte(self, text: _Text) -> dict[str, float]:
        """Bits per byte of the document under each persona alone: {name: bits}."""
    def attribute(self, text: _Text, beta: Optional[float] = None) -> dict[str, float]:
        """Which mask wrote this document? {name: posterior probability} given the whole
        document, as if one persona wrote all of it (no switching): log pi_k + beta log p_k(doc),
        normalised. beta=None: the mixture's tempering at the document's length n,
        attribution_beta * (n / 300) ** -attribution_exponent (fitted by Mixture.fit so the
        posteriors are calibrated, else 1.0 and 0.0); beta=1.0: the exact Bayesian posterior."""
    @property
    def attribution_beta(self) -> float:
        """The tempering of attribute(text) at 300 bytes: fitted by Mixture.fit, 1.0 otherwise;
        settable, in [1e-6, 1e6]. The trace and the filter keep their own beta."""
    @attribution_beta.setter
    def attribution_beta(self, beta: float) -> None: ...
    @property
    def attribution_exponent(self) -> float:
        """How the attribution beta decays with the length: fitted by Mixture.fit, 0.0
        otherwise; settable, in [0, 1]."""
    @attribution_exponent.setter
    def attribution_exponent(self, exponent: float) -> None: ...
    @property
    def attribution_own_weight(self) -> Optional[float]:
        """The own share of the evidence attribute() weighs: each mask's own model and the shared background
        mixed with this one share, chosen by Mixture.fit for the held-out log-loss of the true persona; None:
        attribute() reads the masks as they are. Settable, in [0, 1], or None."""
    @attribution_own_weight.setter
    def attribution_own_weight(self, weight: Optional[float]) -> None: ...
    @property
    def attribution_order(self) -> Optional[int]:
        """The n-gram order of the models attribute() weighs when they are not the masks (chosen by
        Mixture.fit with the own share; it may differ from the masks'); None: attribute() reads the masks.
        Setting attribution_own_weight reweights the masks themselves."""
    @property
    def segmentation_alpha(self) -> Optional[float]:
        """The fixed-share rate smooth() and attribute_spans() read (fitted by Mixture.fit for
        segmentation), or None: they read alpha. Settable; None clears it."""
    @segmentation_alpha.setter
    def segmentation_alpha(self, alpha: Optional[float]) -> None: ...
    @property
    def segmentation_beta(self) -> float:
        """The tempering smooth() and attribute_spans() read with segmentation_alpha."""
    @segmentation_beta.setter
    def segmentation_beta(self, beta: float) -> None: ...
    def attribution_accuracy(self, corpus: Corpus) -> float:
        """Share of the corpus's documents whose most probable author is their labelled persona."""
    def begin(
        self,
        clamp: Optional[_PersonaKey] = None,
        exclude: Optional[_PersonaKeys] = None,
        prior_bias: Optional[_PriorBias] = None,
        product: Optional[_Product] = None,
    ) -> State:
        """A reader at the start of a document."""
    def predict(
        self,
        context: _Text = b"",
        clamp: Optional[_PersonaKey] = None,
        exclude: Optional[_PersonaKeys] = None,
        prior_bias: Optional[_PriorBias] = None,
        product: Optional[_Product] = None,
    ) -> Prediction:
        """The next-token prediction after reading `context` from a document start."""
    def generate(
        self,
        prompt: _Text = b"",
        max_tokens: int = 200,
        temperature: float = 0.8,
        top_k: int = 0,
        top_p: float = 0.95,
        min_p: float = 0.05,
        seed: int = 0,
        clamp: Optional[_PersonaKey] = None,
        exclude: Optional[_PersonaKeys] = None,
        prior_bias: Optional[_PriorBias] = None,
        product: Optional[_Product] = None,
        mode: Literal["mixture", "persona"] = "mixture",
        stop_at_boundary: bool = True,
        on_step: Optional[Callable[[GenerationStep], Optional[bool]]] = None,
    ) -> Generation:
        """Reads the prompt, then samples up to max_tokens tokens.

        The sampler chain is top-k (0: off), top-p (1: off), min-p (0: off),
        then temperature (0: greedy); the defaults are llama.cpp's and C++'s
        SamplerConfig's and the CLI's (temperature 0.8, top-p 0.95, min-p 0.05),
        so that the pile does not emit bytes it never saw through its smoothing;
        top_p=1, min_p=0 turn the truncations off; ValueError for a NaN or out-of-range
        value. mode='mixture' samples from the mixture,
        mode='persona' first draws a persona from the weights. on_step(step)
        runs after each token; returning False stops. Same seed, same output.
        Ctrl-C stops it with KeyboardInterrupt.
        """
    def vote(
        self,
        prompt: _Text,
        options: Sequence[_Text],
        clamp: Optional[_PersonaKey] = None,
        exclude: Optional[_PersonaKeys] = None,
        prior_bias: Optional[_PriorBias] = None,
        product: Optional[_Product] = None,
    ) -> Vote:
        """The superposition vote: each persona alone and the (steered) mixture score every
        option as a continuation of `prompt` (read from a document start, no boundaries);
        the pile's answer in three readings (Vote). ValueError for no options or an empty option."""
    def switch_evidence(self, a: _PersonaKey, b: _PersonaKey, text_a: _Text, text_b: _Text) -> SwitchEvidence:
        """A mask swap: persona b's weight before each token of text_b, read after text_a as one
        stream from a document start (the mixture's own switching, no steering)."""
    def switch_asymmetry(
        self, a: _PersonaKey, b: _PersonaKey, text_a: _Text, text_b: _Text
    ) -> Tuple[SwitchEvidence, SwitchEvidence]:
        """(switch_evidence(a, b, text_a, text_b), switch_evidence(b, a, text_b, text_a))."""
    def attribute_spans(self, text: Union[_Text, _Tokens]) -> Attribution:
        """Who spoke when: the Viterbi path of masks for a text (bytes or tokens) under the prior
        and switching rule read as an HMM (beta = 1, no steering). ValueError with switching='forgetting'."""
    def raw_view(
        self,
        context: _Text = b"",
        top_k: int = 10,
        clamp: Optional[_PersonaKey] = None,
        exclude: Optional[_PersonaKeys] = None,
        prior_bias: Optional[_PriorBias] = None,
        product: Optional[_Product] = None,
    ) -> RawView:
        """After `context`, each persona's and the mixture's top_k next tokens with the weights
        (top_k above 257 is clamped). ValueError for top_k < 1."""
    def divergence_matrix(self, text: _Text) -> npt.NDArray[np.float64]:
        """(K, K) Jensen-Shannon divergences (nats, in [0, ln 2]) between the personas' next-token
        distributions, averaged over the contexts of `text`. ValueError for an empty text."""
    def characteristic_tokens(
        self, text: _Text, n: int = 10, min_count: float = 5.0
    ) -> dict[str, list[Tuple[bytes, float]]]:
        """{name: [(token, score), ...]}: each persona's (at most) n tokens it would emit most often
        relative to the uniform average of all personas over the contexts of `text` (log-ratio of
        expected counts, nats), highest first, among tokens with support: an expected count
        >= min_count and, for an n-gram persona, seen in its training text; positive scores only.
        ValueError for n < 1, min_count < 0 or NaN, or an empty text."""
    def compact(self, quantize: bool = False) -> Mixture:
        """The pile with every stand-alone NGramPersona mask compact (NGramPersona.compact) or, quantize=True,
        quantised (docs/compact.md); other masks and the settings as they are. ValueError for a pile with masks
        interpolated with a background."""
    def save(self, path: _PathLike) -> None:
        """Writes the model to a safetensors file, atomically. OSError if it cannot be written."""
    def __getstate__(self) -> bytes: ...
    def __setstate__(self, state: bytes) -> None: ...
    # batch and streaming (python/bind_batch.cpp, python/bind_stream.cpp)
    def score_batch(
        self,
        texts: Sequence[_Text],
        clamp: Optional[_PersonaKey] = None,
        exclude: Optional[_PersonaKeys] = None,
        prior_bias: Optional[_PriorBias] = None,
        product: Optional[_Product] = None,
    ) -> npt.NDArray[np.float64]:
        """(N,) float64: score(text) of each document with the same steering, bit for bit the
        one-at-a-time calls, the GIL released once and the documents read on every core. TypeError
        naming texts[i] for an element that is not a text."""
    def attribute_batch(self, texts: Sequence[_Text], beta: Optional[float] = None) -> npt.NDArray[np.float64]:
        """(N, K) float64 natural-log posteriors over the personas (pile order): row i is
        attribute(texts[i], beta) as logs, bit for bit, the GIL released once and the documents read
        on every core. ValueError for beta <= 0; TypeError naming texts[i] for a non-text."""
    def stream(
        self,
        prompt: _Text = b"",
        max_tokens: int = 200,
        temperature: float = 0.8,
        top_k: int = 0,
        top_p: float = 0.95,
        min_p: float = 0.05,
        seed: int = 0,
        clamp: Optional[_PersonaKey] = None,
        exclude: Optional[_PersonaKeys] = None,
        prior_bias: Optional[_PriorBias] = None,
        product: Optional[_Product] = None,
        mode: Literal["mixture", "persona"] = "mixture",
        stop_at_boundary: bool = True,
    ) -> Stream:
        """generate() token by token: a Stream yielding each token as bytes as it is drawn, the
        same tokens as generate() with the same arguments. Ctrl-C stops the loop."""

def sampler_distribution(
    logprobs: npt.ArrayLike,
    temperature: float = 0.8,
    top_k: int = 0,
    top_p: float = 0.95,
    min_p: float = 0.05,
) -> npt.NDArray[np.float64]:
    """The law Mixture.generate draws a token from, given the distribution `logprobs` (natural
    logs, any size, need not be normalised): probabilities summing to 1, zero outside what top-k,
    top-p and min-p keep, tempered (temperature 0: one-hot on the most likely). Defaults as
    generate(). ValueError for a bad setting, a NaN entry or all -inf."""

def load(path: _PathLike, mmap: bool = False) -> Mixture:
    """Reads a model written by Mixture.save(). mmap=True maps the file and leaves the arrays of its compact
    and quantised n-gram personas in the mapping, validated in place (docs/compact.md).

    FileError (an OSError) naming the problem for a missing, truncated,
    corrupted, foreign or newer file.
    """

def format_trace_table(
    log_weights: npt.ArrayLike,
    entropy: npt.ArrayLike,
    logprobs: npt.ArrayLike,
    dominant: npt.ArrayLike,
    tokens: npt.ArrayLike,
    personas: Sequence[_Text],
    rows: Sequence[int] = ...,
    marks: Sequence[Tuple[int, str]] = ...,
    color: bool = False,
) -> str:
    """The library's weights table of a trace (the CLI's): rows to show (empty: all),
    (position, label) rules drawn before the first row at or after the position.
    Used by Trace.table() / str() / repr() (simulacra.display)."""

def format_vote_table(
    persona_choice: npt.ArrayLike,
    mixture_choice: npt.ArrayLike,
    mixture_logprobs: npt.ArrayLike,
    prompt_weights: npt.ArrayLike,
    options: Sequence[_Text],
    personas: Sequence[_Text],
    color: bool = False,
    per_byte_choice: Optional[npt.ArrayLike] = None,
    plurality: Optional[npt.ArrayLike] = None,
) -> str:
    """The library's vote table (the CLI's); the per-byte and plurality columns when both are
    given (ValueError for one alone or a wrong size). Used by repr(Vote) (simulacra.display)."""
