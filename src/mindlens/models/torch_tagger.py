"""The PyTorch tagger: training, the ONNX export and the benchmark's baseline use it.

Folder format: ``encoder/`` (Hugging Face weights + tokenizer), ``heads.safetensors``
(only the heads the model trained) and ``tagger.json`` (``TaggerConfig``). Windows and
decoding are the shared ones, so it tags exactly as the served ONNX tagger does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mindlens.models.network import HEAD_MODULES, MultiTaskTagger
from mindlens.models.tagger import TaggerBase
from mindlens.models.tagger_config import TaggerConfig, input_names, output_names
from mindlens.models.windows import Context, hf_windows, pair_windows, rust_tokenizer, set_window_truncation


class TorchTagger(TaggerBase):
    """The PyTorch model (training, export, and the baseline in benchmarks)."""

    def __init__(self, network: Any, tokenizer: Any, config: TaggerConfig) -> None:
        self.network, self.tokenizer, self.config = network, tokenizer, config
        self._pair_tokenizer: Any = None

    @property
    def device(self) -> Any:
        return next(self.network.parameters()).device

    def _windows(
        self, texts: Sequence[str], contexts: Sequence[Context] | None = None
    ) -> list[dict[str, Any]]:
        if not self.config.context_sentences:
            return hf_windows(self.tokenizer, texts, self.config.max_length, self.config.stride)
        if self._pair_tokenizer is None:  # the same Rust code path as the ONNX tagger
            self._pair_tokenizer = rust_tokenizer(self.tokenizer)
            set_window_truncation(self._pair_tokenizer, self.config)
        contexts = [("", "")] * len(texts) if contexts is None else contexts
        return pair_windows(self._pair_tokenizer, texts, contexts, self.config.max_length, self.config.stride)

    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        self.network.eval()
        device = self.device
        with torch.inference_mode():
            result = self.network(
                *(torch.from_numpy(inputs[name]).to(device) for name in input_names(self.config))
            )
        return {
            name: t.float().cpu().numpy() for name, t in zip(output_names(self.heads), result, strict=True)
        }

    def save(self, folder: Path) -> Path:
        from safetensors.torch import save_file

        folder = Path(folder)
        (folder / "encoder").mkdir(parents=True, exist_ok=True)
        self.network.encoder.save_pretrained(folder / "encoder")
        self.tokenizer.save_pretrained(folder / "encoder")
        heads = {
            f"{module}.{k}": v.detach().cpu()
            for head in self.heads
            for module in HEAD_MODULES[head]
            for k, v in getattr(self.network, module).state_dict().items()
        }
        save_file({k: v.contiguous() for k, v in heads.items()}, str(folder / "heads.safetensors"))
        self.config.save(folder)
        return folder

    @classmethod
    def load(cls, folder: Path) -> TorchTagger:
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer

        folder = Path(folder)
        config = TaggerConfig.load(folder)
        network = MultiTaskTagger(
            AutoModel.from_pretrained(folder / "encoder", dtype=torch.float32),
            len(config.labels),
            heads=config.heads,
        )
        weights = load_file(str(folder / "heads.safetensors"))
        for head in config.heads:
            for module in HEAD_MODULES[head]:
                state = {k.split(".", 1)[1]: v for k, v in weights.items() if k.startswith(f"{module}.")}
                if not state:
                    raise ValueError(f"{folder}: heads.safetensors lacks {module} for the {head} head")
                getattr(network, module).load_state_dict(state)
        return cls(network.eval(), AutoTokenizer.from_pretrained(folder / "encoder"), config)

    @classmethod
    def from_backbone(cls, backbone: str, labels: Sequence[str], **config: Any) -> TorchTagger:
        """A new tagger: pretrained encoder from ``backbone`` (alias, path or hub id), fresh heads."""
        from transformers import AutoModel, AutoTokenizer

        from mindlens.models.backbones import resolve_backbone

        source = resolve_backbone(backbone)
        # fp32 master weights, whatever was stored
        encoder = AutoModel.from_pretrained(source, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(source)
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(
                f"backbone {backbone!r} has no fast (Rust) tokenizer; character offsets "
                "and the ONNX path need one"
            )
        settings = TaggerConfig(labels=list(labels), backbone=backbone, **config)
        return cls(MultiTaskTagger(encoder, len(labels), heads=settings.heads), tokenizer, settings)


def compact_backbone(backbone: str, folder: Path) -> Path:
    """A half-precision copy of an encoder and its tokenizer (half the bytes, e.g. to carry
    MiniLM to a GPU machine); training loads it back in fp32."""
    from transformers import AutoModel, AutoTokenizer

    from mindlens.models.backbones import resolve_backbone

    source = resolve_backbone(backbone)
    folder = Path(folder)
    AutoModel.from_pretrained(source).half().save_pretrained(folder)
    AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    return folder
