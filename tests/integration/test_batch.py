"""Batch scoring with the shipped champion: ``mindlens batch`` on a small corpus (a real
process, progress on stderr), the chunk files, the merged Parquet and its manifest, resuming
after a crash, the pinned model version, and clear errors for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT, data_dir, needs_ptc
from typer.testing import CliRunner

from mindlens import taxonomy
from mindlens.batch import BatchError, merge_batch, plan_batch, run_batch, score_chunk
from mindlens.batch.run import CHUNKS, chunk_path, read_chunk_info
from mindlens.cli.main import app
from mindlens.config import Settings, reset_settings_cache
from mindlens.training.release import SHIPPED, file_sha256, read_release

pytestmark = [pytest.mark.slow, needs_ptc]
runner = CliRunner()


def _articles(n: int, chars: int = 900) -> list[tuple[str, str]]:
    """The first ``n`` PTC training articles, cut to ``chars`` to keep the test quick."""
    folder = data_dir() / "ptc-semeval2020-task11" / "datasets" / "train-articles"
    return [(p.stem, p.read_text(encoding="utf-8")[:chars]) for p in sorted(folder.glob("*.txt"))[:n]]


@pytest.fixture
def shipped(shipped_state, monkeypatch) -> Settings:
    monkeypatch.setenv("MINDLENS_STATE_DIR", str(shipped_state))
    reset_settings_cache()
    return Settings(state_dir=shipped_state)


def test_cli_scores_a_folder_into_parquet_and_manifest(shipped, tmp_path):
    corpus, expected = tmp_path / "corpus", set()
    for i, (stem, text) in enumerate(_articles(6)):
        source = "left" if i % 2 else "right"
        (corpus / source).mkdir(parents=True, exist_ok=True)
        (corpus / source / f"{stem}.txt").write_text(text, encoding="utf-8")
        expected.add(f"{source}/{stem}")
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "mindlens.cli",
        "batch",
        str(corpus),
        "--out",
        str(out),
        "--chunk-size",
        "4",
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600, env=os.environ)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "6 documents in 2 chunks of 4, scored by mindlens-analyzer v" in done.stderr
    assert "6/6" in done.stderr  # the progress bar reached the end
    summary = json.loads(done.stdout)
    assert summary["documents"] == 6 and summary["docs_per_s"] > 0

    results = pd.read_parquet(out / "results.parquet")
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(results["id"]) == expected
    assert set(results["source"]) == {"left", "right"}
    assert manifest["output"]["sha256"] == file_sha256(out / "results.parquet")
    assert manifest["output"]["rows"] == 6 and manifest["counts"]["documents"] == 6
    assert manifest["counts"]["sources"] == {"left": 3, "right": 3}
    assert (
        manifest["model"]["name"] == "mindlens-analyzer"
        and manifest["model"]["semver"] == read_release(SHIPPED)["version"]
    )
    assert [c["documents"] for c in manifest["timings"]["chunks"]] == [4, 2]
    load = [c["load_s"] for c in manifest["timings"]["chunks"]]
    assert load[0] > 0 and load[1] == 0  # the model is loaded once, for the first chunk
    assert manifest["timings"]["workers"] == 1
    assert len(list((out / CHUNKS).glob("*.parquet"))) == 2 and not list(out.rglob("*.tmp"))

    # rows agree with what the analyzer reports, and the JSON columns parse
    for row in results.itertuples():
        spans = json.loads(row.spans)
        scores = json.loads(row.technique_scores)
        assert len(spans) == row.span_count
        assert row.score == pytest.approx(max(scores.values()))
        assert set(row.techniques) <= set(taxonomy.TECHNIQUE_IDS)
        assert set(row.traits) == {taxonomy.technique(t).trait for t in row.techniques}
    assert results["span_count"].sum() == manifest["counts"]["spans"] > 0  # PTC articles are propaganda

    # the command again: everything is already scored, same results file
    again = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600, env=os.environ)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "6 already scored" in again.stderr
    assert json.loads((out / "manifest.json").read_text())["output"]["sha256"] == manifest["output"]["sha256"]


def test_cli_refuses_bad_input_with_the_line_named(shipped, tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "a", "text": "Fine."}\n{"id": "b", "text": ""}\n', encoding="utf-8")
    result = runner.invoke(app, ["batch", str(corpus), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "bad input" in result.output and "c.jsonl line 2: 'text' of document 'b' is empty" in result.output
    assert not (tmp_path / "out").exists()  # nothing written for a corpus refused up front
    result = runner.invoke(app, ["batch", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "no such corpus" in result.output
    result = runner.invoke(app, ["batch", str(corpus), "--out", str(tmp_path / "o"), "--chunk-size", "0"])
    assert result.exit_code == 2


def test_a_crashed_run_resumes_without_rescoring_and_keeps_its_model(shipped, tmp_path, monkeypatch):
    import mindlens.batch.run as batch_run
    from mindlens.registry import promote

    corpus = tmp_path / "c.jsonl"
    records = [
        {"id": stem, "text": text, "source": "ptc", "date": f"2020-0{1 + i % 2}-01"}
        for i, (stem, text) in enumerate(_articles(5, chars=500))
    ]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "out"

    real = batch_run.score_document

    def crash_on_the_last(analyzer, document):
        if document["id"] == records[-1]["id"]:
            raise RuntimeError("worker lost")
        return real(analyzer, document)

    monkeypatch.setattr(batch_run, "score_document", crash_on_the_last)
    with pytest.raises(RuntimeError, match="worker lost"):
        run_batch(shipped, corpus, out, chunk_size=2)
    assert [chunk_path(out, i).is_file() for i in range(3)] == [True, True, False]
    assert not (out / "results.parquet").exists() and not list(out.rglob("*.tmp"))
    with pytest.raises(BatchError, match=r"1 of 3 chunks are not scored yet: 2"):
        merge_batch(out)
    first = [read_chunk_info(chunk_path(out, i)) for i in range(2)]

    # the champion changes before the rerun: the batch stays with the version it planned with
    plan = plan_batch(shipped, corpus, out, chunk_size=2)
    promote(shipped, "1")
    try:
        monkeypatch.setattr(batch_run, "score_document", real)
        assert plan_batch(shipped, corpus, out, chunk_size=2).model == plan.model
        assert score_chunk(shipped, out, 0)["skipped"] is True
        manifest = run_batch(shipped, corpus, out, chunk_size=2)
    finally:
        promote(shipped, plan.model["version"])
    assert [read_chunk_info(chunk_path(out, i)) for i in range(2)] == first  # not rescored
    assert manifest["model"]["version"] == plan.model["version"]
    assert manifest["counts"]["documents"] == 5 and manifest["counts"]["dated_documents"] == 5
    results = pd.read_parquet(out / "results.parquet")
    assert results["id"].tolist() == [r["id"] for r in records]  # corpus order

    # the same folder for another corpus or chunk size is refused, not mixed in
    with pytest.raises(BatchError, match="holds a batch of another chunk size"):
        plan_batch(shipped, corpus, out, chunk_size=3)
    with pytest.raises(BatchError, match="holds a batch of another corpus"):
        plan_batch(shipped, corpus, out, chunk_size=2, max_documents=4)
    with pytest.raises(BatchError, match="chunk 3 is not in this plan"):
        score_chunk(shipped, out, 3)


def test_no_champion_is_a_clear_error(tmp_path):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"id": "a", "text": "Fine."}\n', encoding="utf-8")
    with pytest.raises(BatchError, match="no model registry database"):
        plan_batch(Settings(state_dir=tmp_path / "empty-state"), corpus, tmp_path / "out")
