"""benchmarks/speed.py: a --quick run on tiny inputs, every path real (both servers on
loopback), checked for the shape and plausibility of its JSON, never for its timings; and
the README update that touches only the generated table."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import data_dir, needs_ptc

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "speed.py"
ROUNDS = 3


def _load() -> Any:
    spec = importlib.util.spec_from_file_location("speed_bench", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def speed() -> Any:
    module = _load()
    yield module
    sys.modules.pop("speed_bench", None)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str, Path]:
    if not (data_dir() / "stop-clickbait" / "dataset").is_dir():
        pytest.skip("clickbait data not found under MINDLENS_DATA_DIR")
    folder = tmp_path_factory.mktemp("speed")
    out = folder / "speed"
    env = os.environ | {
        "MINDLENS_STATE_DIR": str(folder / "state"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, str(SCRIPT), "--quick", "--articles", "2", "--words", "150"]
    command += ["--headlines", "4", "--sentences", "4", "--concurrency-requests", "2", "--peak-size", "256"]
    done = subprocess.run(
        [*command, "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(out.with_suffix(".json").read_text()), out.with_suffix(".md").read_text(), out


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@pytest.mark.slow
@needs_ptc
def test_quick_run_measures_every_path_on_the_same_texts(
    speed: Any, quick_run: tuple[dict, str, Path], tmp_path: Path
) -> None:
    result, table, out = quick_run
    assert result["schema"] == speed.SCHEMA and result["quick"] is True and result["rounds"] == ROUNDS
    machine = result["machine"]
    assert machine["cpu_model"] and machine["cores_usable"] >= 1
    for library in ("numpy", "onnxruntime", "torch", "transformers", "mlflow", "mindlens"):
        assert machine["libraries"][library], library
    assert _positive(machine["fp32_peak_gflops"]) and _positive(machine["int8_peak_gops"])

    articles = result["workloads"]["articles"]
    assert articles["texts"] == 2 and 100 <= articles["words_mean"] <= 200  # cut near 150 words
    for name, workload in result["workloads"].items():
        assert workload["windows"] >= workload["sentences"] >= workload["texts"], name
        assert workload["tokens"] > workload["windows"] and _positive(workload["gflop"]), name
        assert workload["bound_ms_per_text_int8"] > 0, name

    assert set(result["paths"]) == set(speed.PATHS)  # every peer ran: nothing skipped
    for name, path in result["paths"].items():
        assert path["precision"] in ("fp32", "int8") and path["what"], name
        a = path["articles"]
        assert len(a["round_p50_ms"]) == ROUNDS and len(a["round_seconds"]) == ROUNDS, name
        assert _positive(a["p50_ms"]) and a["p95_ms"] >= a["p50_ms"], name
        assert _positive(a["gflops"]) and _positive(a["pct_of_peak"]), name
        for stream in ("headlines", "sentences"):
            assert len(path[stream]["round_texts_per_s"]) == ROUNDS, (name, stream)
            assert _positive(path[stream]["texts_per_s"]), (name, stream)
        assert f"| {name} |" in table

    for name, levels in result["server_concurrency"].items():  # articles, then headlines
        assert [(level["workload"], level["clients"]) for level in levels] == [
            ("articles", 1),
            ("articles", 8),
            ("headlines", 1),
            ("headlines", 8),
        ], name
        for level in levels:
            requests = 2 * speed.CONCURRENCY_WORKLOADS[level["workload"]]
            assert level["served"] + level["refused_503"] == level["requests"] == requests
            assert level["served"] >= 1 and _positive(level["requests_per_s"])
    assert set(result["server_concurrency"]) == {"mindlens-http", "mindlens-http-unbatched", "mlflow-serve"}
    assert _positive(result["ratios"]["batched_over_unbatched_clients8_requests_per_s"])
    assert _positive(result["ratios"]["clients8_over_clients1_headlines_requests_per_s"])
    assert "| mindlens-http | headlines | 8 |" in table
    assert all(_positive(v) for v in result["ratios"].values()), result["ratios"]
    for check in result["targets"].values():
        assert isinstance(check["met"], bool)
    assert "randomly initialised" in result["model"]["peer_note"]
    # the table is a function of the JSON alone: --render writes it again, measuring nothing
    speed.main(["--render", str(out.with_suffix(".json")), "--out", str(tmp_path / "again")])
    assert (tmp_path / "again.md").read_text() == table


def test_readme_update_replaces_only_the_generated_table(speed: Any, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    before = (
        f"# X\n\n## Benchmark\n\nintro\n\n{speed.README_BEGIN}\nold table\n{speed.README_END}\n\n## Next\n"
    )
    readme.write_text(before)
    speed.update_readme(readme, "| new | table |", "python benchmarks/speed.py")
    text = readme.read_text()
    assert "old table" not in text and "| new | table |" in text
    assert text.startswith("# X\n\n## Benchmark\n\nintro\n\n") and text.endswith(
        f"{speed.README_END}\n\n## Next\n"
    )
    readme.write_text("# no markers\n")
    with pytest.raises(SystemExit, match="markers"):
        speed.update_readme(readme, "t", "c")


def test_bad_arguments_are_refused(speed: Any) -> None:
    for argv in (
        ["--rounds", "2"],
        ["--skip", "gpu"],
        ["--quick", "--readme", "README.md"],
        ["--articles", "0"],
    ):
        with pytest.raises(SystemExit) as caught:
            speed.parse(argv)
        assert caught.value.code == 2, argv
