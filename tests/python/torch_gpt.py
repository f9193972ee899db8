"""An independent PyTorch implementation of simulacra's transformer hydra.

The architecture of include/simulacra/transformer.hpp, written from its
comments (and nanoGPT's model.py), not from src/transformer.cpp: a causal
pre-LayerNorm GPT over the 257 tokens (bytes and the boundary),

    x0       = tok_emb[tokens] + pos_emb[:L]                    (B, L, C)
    x       += attn(ln1(x));  x += mlp(ln2(x))                  per block
    h        = x                                                (B, L, C) the trunk output
    logits_k = ln_k(h) W_k^T                                    (B, L, V) head k; W_k = tok_emb when tied
    gate     = h G^T (+ g)                                      (B, L, K) with a gate

with LayerNorm eps 1e-5, GELU's tanh approximation, attention scaled by
1 / sqrt(C / H), and biases in every linear layer and LayerNorm or in none.
Parameter names and shapes are the C++ layout's, so a file written by
simulacra.TransformerModel.save loads with load_state_dict(strict=True).

    model = torch_gpt.GPT.load("hydra.safetensors")   # the file's dtype
    out = model(tokens)                               # out.logits (K, B, L, V)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file
from torch import nn

VOCAB = 257
BOUNDARY = 256


@dataclass(frozen=True)
class Config:
    layers: int = 4
    heads: int = 4
    width: int = 128
    context: int = 64
    personas: int = 1
    bias: bool = False
    tie_weights: bool = False
    gate: bool = False

    @classmethod
    def from_metadata(cls, metadata: dict) -> "Config":
        """The config stored in a transformer file's safetensors metadata (strings)."""
        if metadata.get("format") != "simulacra-transformer":
            raise ValueError(f"not a simulacra transformer file: format {metadata.get('format')!r}")
        values = {}
        for f in fields(cls):
            text = metadata[f.name]
            values[f.name] = (text == "true") if f.type in (bool, "bool") else int(text)
        return cls(**values)


class LayerNorm(nn.Module):
    """LayerNorm over the last dimension, eps 1e-5, with or without a bias."""

    def __init__(self, width: int, bias: bool):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.bias = nn.Parameter(torch.zeros(width)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, 1e-5)


class Attention(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.heads = cfg.heads
        self.qkv = nn.Linear(cfg.width, 3 * cfg.width, bias=cfg.bias)
        self.proj = nn.Linear(cfg.width, cfg.width, bias=cfg.bias)

    def forward(self, x):  # x (B, L, C)
        B, L, C = x.shape
        hd = C // self.heads
        q, k, v = self.qkv(x).split(C, dim=2)  # each (B, L, C)
        q, k, v = (t.view(B, L, self.heads, hd).transpose(1, 2) for t in (q, k, v))  # (B, H, L, hd)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hd)  # (B, H, L, L)
        future = torch.ones(L, L, dtype=torch.bool, device=x.device).triu(1)
        weights = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
        y = (weights @ v).transpose(1, 2).reshape(B, L, C)
        return self.proj(y)


class MLP(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.fc = nn.Linear(cfg.width, 4 * cfg.width, bias=cfg.bias)
        self.proj = nn.Linear(4 * cfg.width, cfg.width, bias=cfg.bias)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.ln1 = LayerNorm(cfg.width, cfg.bias)
        self.attn = Attention(cfg)
        self.ln2 = LayerNorm(cfg.width, cfg.bias)
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class Head(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.ln = LayerNorm(cfg.width, cfg.bias)
        self.unembed = None if cfg.tie_weights else nn.Linear(cfg.width, VOCAB, bias=False)

    def forward(self, h, tok_emb):
        w = tok_emb if self.unembed is None else self.unembed.weight
        return F.linear(self.ln(h), w)


class Output(NamedTuple):
    logits: torch.Tensor  # (K, B, L, V)
    hidden: torch.Tensor  # (B, L, C)
    gate: Optional[torch.Tensor]  # (B, L, K) or None


class GPT(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Parameter(torch.zeros(VOCAB, cfg.width))
        self.pos_emb = nn.Parameter(torch.zeros(cfg.context, cfg.width))
        self.h = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.head = nn.ModuleList(Head(cfg) for _ in range(cfg.personas))
        self.gate = nn.Linear(cfg.width, cfg.personas, bias=cfg.bias) if cfg.gate else None

    def init_weights(self, seed: int) -> "GPT":
        """GPT-2's initialisation: N(0, 0.02), residual projections N(0, 0.02 / sqrt(2 layers)),
        biases 0, LayerNorm weights 1 (the same distribution as simulacra's, not the same numbers)."""
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith(("attn.proj.weight", "mlp.proj.weight")):
                    p.normal_(0.0, 0.02 / math.sqrt(2 * self.cfg.layers), generator=g)
                elif name.endswith("bias"):
                    p.zero_()
                elif p.dim() == 1:  # LayerNorm weights
                    p.fill_(1.0)
                else:
                    p.normal_(0.0, 0.02, generator=g)
        return self

    @classmethod
    def load(cls, path) -> "GPT":
        """The model of a file written by simulacra.TransformerModel.save, in the file's dtype."""
        with safe_open(str(path), framework="pt") as f:
            cfg = Config.from_metadata(f.metadata())
        state = load_file(str(path))
        model = cls(cfg).to(state["tok_emb"].dtype)
        model.load_state_dict(state, strict=True)
        return model

    def forward(self, tokens: torch.Tensor) -> Output:  # tokens (B, L) int64
        B, L = tokens.shape
        assert 1 <= L <= self.cfg.context
        x = self.tok_emb[tokens] + self.pos_emb[:L]  # (B, L, C)
        for block in self.h:
            x = block(x)
        logits = torch.stack([head(x, self.tok_emb) for head in self.head])  # (K, B, L, V)
        gate = self.gate(x) if self.gate is not None else None
        return Output(logits, x, gate)

    def windows(self, tokens):
        """The input windows TransformerPersona reads before predicting tokens[0], ..., tokens[n - 1]
        and the token after them (n + 1 windows). The inputs are the boundary then the tokens;
        when the window holds `context` inputs, only its last context // 2 are kept (at positions
        0..) before the next input is appended; after a boundary the window restarts from it alone."""
        window = []
        for t in range(len(tokens) + 1):
            token = BOUNDARY if t == 0 else int(tokens[t - 1])
            if token == BOUNDARY:
                window = []
            elif len(window) == self.cfg.context:
                window = window[len(window) - self.cfg.context // 2 :]
            window.append(token)
            yield list(window)

    @torch.no_grad()
    def next_logprobs(self, window, head: int) -> torch.Tensor:
        """(V) natural-log p_head(next token | window)."""
        return self(torch.tensor([window])).logits[head, 0, -1].log_softmax(-1)

    def document_logprobs(self, tokens, head: int) -> torch.Tensor:
        """(n) log p_head(tokens[t] | the document before it), read as TransformerPersona reads."""
        windows = list(self.windows(tokens))
        return torch.stack([self.next_logprobs(windows[t], head)[int(x)] for t, x in enumerate(tokens)])
