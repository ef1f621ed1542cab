"""``mindlens feedback migrate|list|export`` on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mindlens.cli import app
from mindlens.feedback import FeedbackIn, FeedbackStore

TEXT = "They are traitors, all of them! The meeting is at noon."


def _fill(url: str) -> None:
    store = FeedbackStore(url)
    store.add(FeedbackIn(client_id="cli-1", text=TEXT, judgement="manipulative"))
    store.add(
        FeedbackIn(
            client_id="cli-2",
            text="Second text.",
            comment="fine",
            corrections=[{"action": "add", "start": 0, "end": 6, "technique": "doubt"}],
        )
    )
    store.mark_queued([(1, 77)])
    store.close()


def test_migrate_list_export_default_database(tmp_path: Path, monkeypatch) -> None:
    from mindlens.config import reset_settings_cache

    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    reset_settings_cache()
    runner = CliRunner()
    result = runner.invoke(app, ["feedback", "migrate"])
    assert result.exit_code == 0, result.output
    assert "at the latest migration (0 feedback items)" in result.output
    assert (tmp_path / "feedback.db").is_file()
    _fill(f"sqlite:///{tmp_path / 'feedback.db'}")

    listed = runner.invoke(app, ["feedback", "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.strip().splitlines()
    assert lines[0].split()[:3] == ["id", "created", "(UTC)"]
    assert lines[1].split()[0] == "2" and "Second text." in lines[1]  # newest first
    assert "queued" in lines[2] and "manipulative" in lines[2]
    queued = runner.invoke(app, ["feedback", "list", "--status", "queued"])
    assert "Second text." not in queued.output and "They are traitors" in queued.output
    assert (
        "no feedback with status reviewed"
        in runner.invoke(app, ["feedback", "list", "--status", "reviewed"]).output
    )

    out = tmp_path / "export" / "feedback.jsonl"
    exported = runner.invoke(app, ["feedback", "export", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["client_id"] for r in rows] == ["cli-1", "cli-2"]
    assert rows[0]["label_studio_task_id"] == 77 and rows[0]["text"] == TEXT
    assert rows[1]["corrections"] == [{"action": "add", "start": 0, "end": 6, "technique": "doubt"}]
    stdout = runner.invoke(app, ["feedback", "export", "--status", "new"])
    assert [json.loads(line)["client_id"] for line in stdout.output.splitlines()] == ["cli-2"]


def test_bad_status_and_unreachable_database_exit_1(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'f.db'}"
    bad = runner.invoke(app, ["feedback", "list", "--status", "done", "--url", url])
    assert bad.exit_code == 1 and "unknown status 'done'" in bad.output
    down = runner.invoke(
        app, ["feedback", "migrate", "--url", "postgresql+psycopg2://nobody@127.0.0.1:1/none"]
    )
    assert down.exit_code == 1 and "the feedback database cannot be used" in down.output
    assert "Traceback" not in down.output


def test_migrate_and_export_on_postgresql(tmp_path: Path) -> None:
    from pg import temporary_database

    runner = CliRunner()
    with temporary_database("mindlens_feedback_cli") as url:
        migrated = runner.invoke(app, ["feedback", "migrate", "--url", url])
        assert migrated.exit_code == 0, migrated.output
        assert "***" in migrated.output or "@" in migrated.output
        _fill(url)
        exported = runner.invoke(app, ["feedback", "export", "--url", url])
        assert [json.loads(line)["client_id"] for line in exported.output.splitlines()] == ["cli-1", "cli-2"]
