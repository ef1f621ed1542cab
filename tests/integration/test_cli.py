"""The ``mindlens`` CLI against a real registry champion."""

import json

import pytest
from typer.testing import CliRunner

from mindlens.cli import app

runner = CliRunner()


@pytest.fixture
def cli(champion_settings):
    def invoke(*args, input=None):
        return runner.invoke(app, list(args), input=input)
    return invoke


def test_analyze_text_readable_and_json(cli):
    text = "They are traitors and liars. The meeting is at noon."
    readable = cli("analyze", text)
    assert readable.exit_code == 0, readable.output
    assert "mindlens-analyzer v" in readable.output
    result = json.loads(cli("analyze", text, "--json", "--min-confidence", "0").output)
    assert [text[s["start"]:s["end"]] for s in result["sentences"]] == [s["text"] for s in result["sentences"]]
    assert result["model"]["version"]
    assert all(s["techniques"] for s in result["sentences"])  # threshold 0 keeps everything


def test_analyze_stdin_and_file(cli, tmp_path):
    via_stdin = json.loads(cli("analyze", "-", "--json", input="Shame on them!\n").output)
    path = tmp_path / "t.txt"
    path.write_text("Shame on them!\n")
    via_file = json.loads(cli("analyze", str(path), "--json").output)
    assert via_stdin["document"] == via_file["document"]


def test_analyze_jsonl_writes_one_result_per_line(cli, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("First text here.\nSecond one! With two sentences.\n")
    out = tmp_path / "out.jsonl"
    result = cli("analyze", "--jsonl", str(source), "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [len(r["sentences"]) for r in lines] == [1, 2]


def test_bad_input_gives_clear_errors(cli, tmp_path):
    empty = cli("analyze", "   ")
    assert empty.exit_code == 2 and "empty" in empty.output
    neither = cli("analyze")
    assert neither.exit_code == 2 and "either TEXT" in neither.output
    missing = cli("analyze", "--jsonl", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2 and "no such file" in missing.output
    unknown_run = cli("register", "0123456789abcdef")
    assert unknown_run.exit_code == 1 and "no MLflow run" in unknown_run.output


def test_evaluate_scores_the_champion(cli):
    result = cli("evaluate")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert 0.0 <= report["micro_f1"] <= 1.0 and report["n_sentences"] > 0
