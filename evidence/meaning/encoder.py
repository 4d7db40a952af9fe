"""all-MiniLM-L6-v2's forward pass in plain PyTorch, so a command that embeds one claim starts in seconds.

The model is a six-layer BERT whose token vectors are averaged and scaled to unit length (sentence-transformers'
Transformer, mean Pooling and Normalize modules). Loading it through sentence-transformers imports transformers,
scikit-learn and SciPy first, several times what PyTorch alone costs (bench/RESULTS.md). Here
the weights come straight from the package's ``model.safetensors`` and the word pieces from its ``tokenizer.json``
(the ``tokenizers`` library); a test checks that the vectors equal sentence-transformers' own to 1e-5.
"""

from __future__ import annotations

import json
from pathlib import Path


class SentenceEncoder:
    """Unit-length sentence vectors from a BERT checkpoint in sentence-transformers' folder layout."""

    def __init__(self, folder: Path):
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        folder = Path(folder)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        settings = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.weights = load_file(str(folder / "model.safetensors"))
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # sentence-transformers reads up to max_seq_length word pieces and pads each batch to its longest text.
        self.tokenizer.enable_truncation(max_length=int(settings.get("max_seq_length", 256)))
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)), pad_token="[PAD]")

    def encode(self, texts: list[str], batch_size: int = 32):
        """A (len(texts), hidden size) float32 tensor of unit vectors, one row per text in the order given.

        Texts go through the model longest first, in batches of similar length, as sentence-transformers does:
        each batch is padded to its longest text, so mixing lengths wastes most of the arithmetic."""
        import torch

        order = sorted(range(len(texts)), key=lambda n: -len(texts[n]))
        rows = [None] * len(texts)
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            for number, vector in zip(chosen, self._encode_batch([texts[n] for n in chosen]), strict=True):
                rows[number] = vector
        if not rows:
            return torch.zeros((0, self.weights["embeddings.word_embeddings.weight"].shape[1]))
        return torch.stack(rows)

    def _encode_batch(self, texts: list[str]):
        import torch

        encodings = self.tokenizer.encode_batch(list(texts))
        ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
        types = torch.tensor([e.type_ids for e in encodings], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.float32)
        with torch.inference_mode():
            tokens = self._forward(ids, types, mask)
            summed = (tokens * mask.unsqueeze(-1)).sum(dim=1)
            pooled = summed / mask.sum(dim=1, keepdim=True).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    def _forward(self, ids, types, mask):
        import torch
        from torch.nn import functional

        w = self.weights
        batch, length = ids.shape
        hidden = w["embeddings.word_embeddings.weight"].shape[1]
        size = hidden // self.heads

        def norm(x, name):
            return functional.layer_norm(x, (hidden,), w[f"{name}.weight"], w[f"{name}.bias"], self.eps)

        def dense(x, name):
            return functional.linear(x, w[f"{name}.weight"], w[f"{name}.bias"])

        def split(x):
            return x.view(batch, length, self.heads, size).transpose(1, 2)

        positions = torch.arange(length)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][positions]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = norm(x, "embeddings.LayerNorm")
        blocked = (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float32).min  # padding gets no attention
        for number in range(self.layers):
            layer = f"encoder.layer.{number}"
            query = split(dense(x, f"{layer}.attention.self.query"))
            key = split(dense(x, f"{layer}.attention.self.key"))
            value = split(dense(x, f"{layer}.attention.self.value"))
            attended = functional.scaled_dot_product_attention(query, key, value, attn_mask=blocked)
            attended = attended.transpose(1, 2).reshape(batch, length, hidden)
            x = norm(x + dense(attended, f"{layer}.attention.output.dense"), f"{layer}.attention.output.LayerNorm")
            inner = functional.gelu(dense(x, f"{layer}.intermediate.dense"))
            x = norm(x + dense(inner, f"{layer}.output.dense"), f"{layer}.output.LayerNorm")
        return x
