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
    assert [text[s["start"] : s["end"]] for s in result["sentences"]] == [
        s["text"] for s in result["sentences"]
    ]
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


def test_evaluate_prints_every_task_metric(cli):
    result = cli("evaluate", "--no-report")
    assert result.exit_code == 0, result.output
    assert "mindlens-analyzer v" in result.output
    for metric in ("val_micro_f1", "val_slc_f1", "val_si_f1", "val_tc_micro_f1", "val_flc_f1", "val_ece"):
        assert metric in result.output
    # the protocol's figures for a fixed model, labelled, with their article-bootstrap sd
    assert "protocol: unseen-story val articles (" in result.output
    for metric in ("unseen_tc_micro_f1", "unseen_si_f1", "unseen_flc_f1"):
        line = next(line for line in result.output.splitlines() if line.strip().startswith(metric + " "))
        assert " ± " in line
    plain = cli("evaluate", "--no-report", "--no-protocol")
    assert plain.exit_code == 0 and "unseen_" not in plain.output
    bad = cli("evaluate", "--no-report", "--split", "nope")
    assert bad.exit_code == 2 and "known" in bad.output
    missing = cli("evaluate", "--no-report", "--model-uri", "runs:/0123456789abcdef/analyzer")
    assert missing.exit_code == 1 and "cannot load model" in missing.output


@pytest.fixture
def ptc_articles(tmp_path):
    """Three real PTC training articles and their gold labels, laid out as the task ships them."""
    from conftest import data_dir

    root = data_dir() / "ptc-semeval2020-task11" / "datasets"
    ids = ["111111111", "111111112", "111111113"]
    folder = tmp_path / "articles"
    folder.mkdir()
    for article in ids:
        name = f"article{article}.txt"
        (folder / name).write_bytes((root / "train-articles" / name).read_bytes())
    for kind in ("flc-tc", "si"):
        lines = [
            line
            for line in (root / f"train-task-{kind}.labels").read_text().splitlines()
            if line.split("\t")[0] in ids
        ]
        (tmp_path / f"gold-{kind}.labels").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_predict_ptc_writes_official_formats_that_score(cli, ptc_articles):
    folder = ptc_articles / "articles"
    for task, gold in (("si", "gold-si.labels"), ("flc", "gold-flc-tc.labels")):
        out = ptc_articles / f"pred-{task}.txt"
        result = cli("predict-ptc", "--articles", str(folder), "--task", task, "--out", str(out))
        assert result.exit_code == 0, result.output
        for line in out.read_text().splitlines():
            fields = line.split("\t")
            assert len(fields) == (3 if task == "si" else 4)
            assert fields[0] in {"111111111", "111111112", "111111113"}
        scored = cli("evaluate", "--task", task, "--gold", str(ptc_articles / gold), "--pred", str(out))
        assert scored.exit_code == 0, scored.output
        report = json.loads(scored.output)
        assert 0.0 <= report["f1"] <= 1.0 and report["n_gold"] > 0

    # TC: the template names gold spans with "?"; predictions keep its order.
    gold_lines = (ptc_articles / "gold-flc-tc.labels").read_text().splitlines()
    template = ptc_articles / "template.txt"
    template.write_text(
        "".join(f"{f[0]}\t?\t{f[2]}\t{f[3]}\n" for f in (line.split("\t") for line in gold_lines))
    )
    out = ptc_articles / "pred-tc.txt"
    result = cli(
        "predict-ptc",
        "--articles",
        str(folder),
        "--task",
        "tc",
        "--template",
        str(template),
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    predicted = [line.split("\t") for line in out.read_text().splitlines()]
    assert [(p[0], p[2], p[3]) for p in predicted] == [
        (g.split("\t")[0], g.split("\t")[2], g.split("\t")[3]) for g in gold_lines
    ]
    scored = json.loads(
        cli(
            "evaluate", "--task", "tc", "--gold", str(ptc_articles / "gold-flc-tc.labels"), "--pred", str(out)
        ).output
    )
    assert 0.0 <= scored["micro_f1"] <= 1.0


def test_predict_ptc_bad_input(cli, tmp_path):
    assert cli("predict-ptc", "--articles", str(tmp_path), "--task", "si", "--out", "x").exit_code == 2
    assert cli("predict-ptc", "--articles", str(tmp_path), "--task", "xx", "--out", "x").exit_code == 2
    bad = cli("evaluate", "--task", "si", "--gold", str(tmp_path / "none"), "--pred", str(tmp_path / "none"))
    assert bad.exit_code == 2 and "no such file" in bad.output


def test_compare_writes_a_markdown_table_into_the_readme(cli, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\nintro\n")
    result = cli("compare", "--registered", "--readme", str(readme))
    assert result.exit_code == 0, result.output
    text = readme.read_text()
    assert text.startswith("# Title") and "mindlens-compare:start" in text
    assert "| metric (val) |" in text and "(champion)" in text and "| micro_f1 |" in text
    again = cli("compare", "--registered", "--readme", str(readme))
    assert again.exit_code == 0 and readme.read_text().count("mindlens-compare:start") == 1


def test_attach_tc_model_writes_a_bundle_that_uses_it(cli, champion_settings, tmp_path):
    from mindlens.models.analyzer import Analyzer
    from mindlens.registry import download_champion

    _, bundle = download_champion(champion_settings, tmp_path / "champion")
    result = cli("registry", "attach-tc-model", "--bundle", str(bundle), "--out", str(tmp_path / "with-tc"))
    assert result.exit_code == 0, result.output
    analyzer = Analyzer.load(tmp_path / "with-tc")
    assert analyzer.tc_model is not None
    text = "They are traitors and liars, all of them! They are traitors."
    labels, probs = analyzer.classify_fragments([(text, 9, 17)])
    assert probs.shape == (1, len(labels)) and abs(probs.sum() - 1) < 1e-6
    bad = cli(
        "registry",
        "attach-tc-model",
        "--bundle",
        str(bundle),
        "--out",
        str(tmp_path / "x"),
        "--split",
        "nope",
    )
    assert bad.exit_code == 2 and "no gold technique spans" in bad.output
