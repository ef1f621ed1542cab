"""The tagger served from ONNX Runtime: no torch, no transformers at inference.

Why: the serving image stays small and starts fast, and int8 ran about 2x faster
than torch on a 2-core CPU (``benchmarks/``); the int8 graph is statically quantized,
so a text's scores never depend on its batch (``mindlens.models.quantization``). The ONNX folder holds only
safe, declarative artifacts (``.onnx`` and ``.json``), nothing that unpickles:

- ``model.fp32.onnx`` and optionally ``model.int8.onnx``: inputs ``input_ids`` and
  ``attention_mask`` (int64, [batch, sequence]; plus ``token_type_ids`` for context
  models); outputs, only for the heads the model trained: ``token_logits``
  [batch, sequence, labels], ``sentence_logits`` [batch, labels], ``tc_token_logits``
  [batch, sequence, labels], ``tc_context_logits`` [batch, labels] and
  ``clickbait_logits`` [batch, 1];
- ``tokenizer.json``: the Rust ``tokenizers`` file of the fast tokenizer;
- ``tagger.json``: the :class:`TaggerConfig` (labels, window, thresholds);
- ``encoder_config.json``: the encoder's shape (layers, widths), for FLOP estimates.

Model layout used by the benchmark: ``MODEL/torch`` (``TorchTagger.save``) and
``MODEL/onnx`` (this export).
torch is imported only inside the export functions, which need it.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mindlens.models.quantization import calibration_feeds, quantize_int8
from mindlens.models.tagger import TaggerBase
from mindlens.models.tagger_config import (
    CONFIG,
    PER_TOKEN_OUTPUTS,
    TaggerConfig,
    input_names,
    output_names,
)
from mindlens.models.windows import Context, pad_windows, pair_windows, rust_tokenizer, set_window_truncation

log = logging.getLogger(__name__)
FP32, INT8 = "model.fp32.onnx", "model.int8.onnx"
TOKENIZER = "tokenizer.json"
ENCODER_CONFIG = "encoder_config.json"
VARIANTS = {"fp32": FP32, "int8": INT8}
TOLERANCE = 1e-4

_SAMPLE = [  # different lengths; the last one is the shortest (a second, unpadded shape)
    "The corrupt elite will destroy our great nation unless patriots stand up now!",
    (
        "Everyone knows this is the best plan ever made, and only traitors would doubt it; "
        "they are liars, cowards and enemies of the people."
    ),
    "Rain tomorrow.",
]


# --- export (needs torch) --------------------------------------------------------
def export_onnx(
    tagger: Any,
    folder: Path,
    *,
    quantize: bool = True,
    calibration: Sequence[str] | None = None,
) -> dict[str, Path]:
    """Write the served folder for a :class:`TorchTagger` and check it.

    The int8 graph quantizes activations with fixed ranges (``mindlens.models.quantization``)
    calibrated on ``calibration`` sentences (a few hundred training sentences; the built-in
    sample when None, enough for tests only), so every text gets the same scores whatever
    shares its batch.

    Raises ``RuntimeError`` when ONNX Runtime fp32 differs from torch by more than
    ``TOLERANCE`` on a padded sample batch or on a batch of another shape (catches
    tracing that baked in a shape or dropped the attention mask). ``tagger`` is a
    ``TorchTagger`` (typed loosely so this module never imports torch at import time).
    """
    import torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    network = tagger.network.cpu().eval()
    inputs, outputs = input_names(tagger.config), output_names(tagger.config.heads)
    sample = _sample_batch(tagger)
    paths = {
        "fp32": folder / FP32,
        "tokenizer": folder / TOKENIZER,
        "config": folder / CONFIG,
        "encoder_config": folder / ENCODER_CONFIG,
    }
    dynamic = {name: {0: "batch", 1: "sequence"} for name in inputs}
    dynamic |= {
        name: ({0: "batch", 1: "sequence"} if name in PER_TOKEN_OUTPUTS else {0: "batch"}) for name in outputs
    }
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            network,
            tuple(torch.from_numpy(sample[name]) for name in inputs),
            str(paths["fp32"]),
            input_names=inputs,
            output_names=outputs,
            dynamo=False,
            opset_version=17,
            do_constant_folding=True,
            dynamic_axes=dynamic,
        )
    network.eval()  # exporting can leave a module in training mode (dropout on)
    session = _session(paths["fp32"], None)
    # the traced shape, and another batch size and width: dynamic axes must really be dynamic
    short = int(sample["attention_mask"][-1].sum())
    other = {name: np.ascontiguousarray(value[-1:, :short]) for name, value in sample.items()}
    for batch in (sample, other):
        with torch.inference_mode():
            expected = [t.numpy() for t in network(*(torch.from_numpy(batch[name]) for name in inputs))]
        got = session.run(outputs, {name: batch[name] for name in inputs})
        for name, a, b in zip(outputs, expected, got, strict=True):
            worst = float(np.abs(a - b).max())
            if worst > TOLERANCE:
                del session
                paths["fp32"].unlink()
                raise RuntimeError(
                    f"ONNX fp32 {name} differs from torch by {worst:.2e} (> {TOLERANCE}) "
                    f"on a {batch['input_ids'].shape} batch; export refused"
                )
    del session
    if quantize:
        texts = list(calibration) if calibration else _SAMPLE
        if not calibration:
            log.warning("int8 activation ranges calibrated on %d built-in sentences only", len(texts))
        paths["int8"] = quantize_int8(paths["fp32"], folder / INT8, calibration_feeds(tagger, texts))
    else:
        (folder / INT8).unlink(missing_ok=True)  # never serve a stale int8 next to a new fp32
    _save_tokenizer(tagger.tokenizer, paths["tokenizer"])
    paths["encoder_config"].write_text(
        json.dumps(tagger.network.encoder.config.to_dict(), indent=2, sort_keys=True, default=str)
    )
    tagger.config.save(folder)
    return paths


def _sample_batch(tagger: Any) -> dict[str, np.ndarray]:
    """Windows of texts of different lengths, padded: exercises the attention mask (and,
    for context models, both segments)."""
    contexts = (
        [(_SAMPLE[1], _SAMPLE[2]), ("", _SAMPLE[0]), ("", "")] if tagger.config.context_sentences else None
    )
    return pad_windows(tagger._windows(_SAMPLE, contexts), bool(tagger.config.context_sentences))


def _save_tokenizer(hf_tokenizer: Any, path: Path) -> None:
    """The backend file without padding/truncation presets (windows set their own)."""
    rust_tokenizer(hf_tokenizer).save(str(path))


# --- inference (onnxruntime + tokenizers only) -----------------------------------
def _graph_bytes(data: bytes) -> bytes:
    """The graph to run: int8 projections fused into ``MatMulIntegerToFloat``
    (``quantization.fuse_integer_matmuls``: the same outputs, about a sixth less time) when
    the ``onnx`` package is there to rewrite it, else the graph as it is."""
    try:
        import onnx
    except ImportError:
        return data
    from mindlens.models.quantization import fuse_integer_matmuls

    model, count = fuse_integer_matmuls(onnx.load_from_string(data))
    return model.SerializeToString() if count else data


# ORT's fused SkipLayerNormalization (residual Add + LayerNorm) took 6x the time of the two
# ops it replaces on MiniLM's [tokens, 384] rows: without it V2.1's int8 forward pass took 12 %
# less time on an AVX-512 EPYC (``bench_inference.py --fusions`` measures it on the machine at
# hand). Its float rounding differs in the last bits, which an int8 activation can round to
# the next step: PTC val SI F1 0.3912 -> 0.3910, FLC F1 0.287 either way
SLOW_FUSIONS = ("SkipLayerNormFusion",)


def _session(
    graph: Path | bytes,
    threads: int | None,
    spinning: bool = False,
    fuse: bool = True,
    disabled: Sequence[str] = SLOW_FUSIONS,
    profile_prefix: Path | None = None,
) -> Any:
    """An ORT session whose idle intra-op threads sleep instead of busy-waiting (unless
    ``spinning``): on a CPU shared with other work (the API's other requests, other
    processes) spinning threads steal its cores; ``bench_inference.py --analyze`` measured
    1.73x vs 1.22x the old analyze speed on a busy 2-core machine, in one run. ``disabled``:
    ORT graph optimizers left out (``SLOW_FUSIONS``); ``profile_prefix``: ORT's profiler
    writes its JSON there (``bench_inference.py --fusions``)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: the optimizer's notes would land in every report
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = str(profile_prefix)
    data = graph.read_bytes() if isinstance(graph, Path) else graph
    return ort.InferenceSession(
        _graph_bytes(data) if fuse else data,
        sess_options=options,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=list(disabled),
    )


class OnnxTagger(TaggerBase):
    """Same decoding as :class:`TorchTagger` (shared ``tag``), network in ONNX Runtime."""

    def __init__(
        self,
        session: Any,
        tokenizer: Any,
        config: TaggerConfig,
        variant: str = "fp32",
        folder: Path | None = None,
    ) -> None:
        self.session, self.tokenizer, self.config, self.variant = session, tokenizer, config, variant
        self.folder = folder  # where it was loaded from (the analyzer bundle copies the files)
        set_window_truncation(tokenizer, config)
        served = {o.name for o in session.get_outputs()}
        missing = [name for name in output_names(config.heads) if name not in served]
        if missing:
            raise ValueError(
                f"the ONNX model lacks outputs {missing} that tagger.json's heads {config.heads} need"
            )
        self.outputs = output_names(config.heads)
        self.inputs = input_names(config)
        self.decoding  # noqa: B018 -- bad saved decoding values fail at load, not at the first request

    @classmethod
    def load(cls, folder: Path, variant: str = "int8", threads: int | None = None) -> OnnxTagger:
        """Load a folder written by :func:`export_onnx`; reads only ``.onnx`` and ``.json``.

        ``threads``: ONNX Runtime's threads per call. None (the default): one, with a text's
        batches run side by side on the process's pool (``models.parallel``), faster than
        one batch at a time over every core; a number: that many, batches one at a time (the
        server's inference workers arrange their own parallelism)."""
        from tokenizers import Tokenizer

        folder = Path(folder)
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {sorted(VARIANTS)}, not {variant!r}")
        needed = [folder / CONFIG, folder / TOKENIZER, folder / VARIANTS[variant]]
        missing = [p.name for p in needed if not p.is_file()]
        if missing:
            raise FileNotFoundError(
                f"{folder} is not an exported ONNX tagger: missing {', '.join(missing)} "
                f"(write it with mindlens.models.onnx_tagger.export_onnx)"
            )
        config = TaggerConfig.load(folder)
        graph = needed[2].read_bytes()
        tagger = cls(
            _session(graph, threads or 1), Tokenizer.from_file(str(needed[1])), config, variant, folder
        )
        tagger.parallel_batches = threads is None
        # op types are plain strings in the file: a dynamically quantized graph takes each
        # activation range from the batch it runs in (V1, V2), a static one does not (V2.1)
        tagger.batch_invariant = b"DynamicQuantizeLinear" not in graph
        return tagger

    def _windows(
        self, texts: Sequence[str], contexts: Sequence[Context] | None = None
    ) -> list[dict[str, Any]]:
        """Mirror of ``hf_windows`` (each encoding, then its overflowing windows), or of the
        torch tagger's ``pair_windows`` for context models (the same Rust code)."""
        if self.config.context_sentences:
            contexts = [("", "")] * len(texts) if contexts is None else contexts
            return pair_windows(self.tokenizer, texts, contexts, self.config.max_length, self.config.stride)
        windows: list[dict[str, Any]] = []
        for text_index, encoding in enumerate(self.tokenizer.encode_batch(list(texts))):
            for part in [encoding, *encoding.overflowing]:
                special = set(np.flatnonzero(part.special_tokens_mask))
                offsets = [(0, 0) if k in special else tuple(o) for k, o in enumerate(part.offsets)]
                windows.append({"text_index": text_index, "input_ids": list(part.ids), "offsets": offsets})
        return windows

    def _run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        result = self.session.run(self.outputs, {name: inputs[name].astype(np.int64) for name in self.inputs})
        return dict(zip(self.outputs, result, strict=True))
