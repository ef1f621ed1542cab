"""Round trip through a REAL Label Studio 1.23.2 on loopback: push, annotate, pull.

Label Studio is the session's (``tests/label_studio_server.py``): installed once into its
own cached venv (``$MINDLENS_LABEL_STUDIO_VENV`` or /tmp/mindlens-label-studio-venv, about a
minute from PyPI) and started on a free port with a fresh data dir (about 30 s of
migrations). Skipped when PyPI is unreachable.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mindlens.data.sources import curated, label_studio
from mindlens.labelling import state, sync
from mindlens.labelling.connection import Connection, connect
from mindlens.labelling.tasks import text_hash

pytestmark = pytest.mark.slow

TEXT = (
    "«Make our streets safe again!» 🔥 The regime's barbaric crackdown — can we really trust this minister?"
)
CURATED = [
    {
        "id": "lst-001",
        "title": "You won't believe what they did next",
        "text": TEXT,
        "spans": [
            {"start": 1, "end": 29, "technique": "slogans"},
            {
                "start": TEXT.index("barbaric"),
                "end": TEXT.index("barbaric") + 8,
                "technique": "loaded_language",
            },
        ],
        "labels": ["clickbait", "black_and_white_fallacy"],
    },
    {
        "id": "lst-002",
        "text": "The council meets on Tuesday at 10 a.m. in the town hall.",
        "no_technique": True,
    },
]
UNLABELLED = [
    "Every true patriot will stand with us on this.",
    "It is what it is, and nothing will change.",
    "Millions have already switched; don't be left behind!",
]
CONFIDENCE = {UNLABELLED[0]: 0.91, UNLABELLED[1]: 0.42, UNLABELLED[2]: 0.67}


class FakeAnalyzer:
    """Deterministic stand-in for the champion: one span per text with a known confidence."""

    def analyze(self, text: str) -> dict:
        return {
            "spans": [{"start": 0, "end": 10, "technique": "flag_waving", "confidence": CONFIDENCE[text]}],
            "document": {"score": CONFIDENCE[text]},
        }


def _records() -> list[curated.Record]:
    return [curated.parse_record(obj, f"test:{i}") for i, obj in enumerate(CURATED)]


@pytest.fixture(scope="module")
def server(label_studio_connection: Connection) -> Connection:
    """The session's Label Studio (tests/label_studio_server.py)."""
    return label_studio_connection


@pytest.fixture(scope="module")
def client(server: Connection) -> object:
    return connect(server)


def _tasks(client, project_id: int) -> list:
    return sorted(client.tasks.list(project=project_id, fields="all"), key=lambda t: t.id)


def _span(start: int, end: int, text: str, technique: str) -> dict:
    return {
        "from_name": "technique",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "text": text[start:end], "labels": [technique]},
    }


def test_push_annotate_pull_round_trip(client, tmp_path):
    pushed = sync.push(client, "Round trip", _records(), UNLABELLED, FakeAnalyzer())
    assert pushed["created"] and pushed["imported"] == 5 and pushed["skipped_existing"] == 0
    tasks = _tasks(client, pushed["project_id"])
    assert [t.data["text"] for t in tasks] == [r["text"] for r in CURATED] + [
        UNLABELLED[1],
        UNLABELLED[2],
        UNLABELLED[0],
    ]  # lowest confidence first
    curated_task, clean_task, low_task = tasks[0], tasks[1], tasks[2]
    prediction = client.predictions.list(task=curated_task.id)[0]
    assert prediction.model_version == "curated"
    champion = client.predictions.list(task=low_task.id)[0]
    assert champion.score == pytest.approx(0.42)
    assert champion.result[0]["value"] == {
        "start": 0,
        "end": 10,
        "text": UNLABELLED[1][:10],
        "labels": ["flag_waving"],
    }

    # An annotator accepts the curated pre-annotation, confirms the clean text, and labels a
    # fresh text (with a note); a second annotator disagrees on that fresh text.
    client.annotations.create(id=curated_task.id, result=prediction.result)
    client.annotations.create(id=clean_task.id, result=client.predictions.list(task=clean_task.id)[0].result)
    low_text = UNLABELLED[1]
    client.annotations.create(
        id=low_task.id,
        result=[
            _span(0, 16, low_text, "thought_terminating_cliche"),
            {"from_name": "note", "to_name": "text", "type": "textarea", "value": {"text": ["classic"]}},
        ],
    )
    other = client.users.create(
        username="annotator2", email="annotator2@example.com", password="annotator2-Passw0rd"
    )
    client.annotations.create(
        id=low_task.id, completed_by=other.id, result=[_span(22, 41, low_text, "doubt")]
    )
    # A region whose quoted text does not match its offsets is reported, not written.
    client.annotations.create(
        id=tasks[3].id,
        result=[
            {
                **_span(0, 5, tasks[3].data["text"], "repetition"),
                "value": {"start": 0, "end": 5, "text": "nope!", "labels": ["repetition"]},
            }
        ],
    )

    result = sync.pull(client, "Round trip", tmp_path)
    assert result["tasks"] == 5 and result["records"] == 3
    assert [c["task"] for c in result["conflicts"]] == [low_task.id]
    assert [i["task"] for i in result["invalid"]] == [tasks[3].id]
    path = Path(result["path"])
    assert path.parent == tmp_path / "curated" and path.name == f"{path.stem}.jsonl"

    records = {r.id: r for r in curated.read_folder(tmp_path / "curated", frozenset({"origin"}))}
    for original in _records():
        back = records[original.id]
        assert back.text == original.text and back.title == original.title
        assert back.spans == original.spans
        assert set(back.labels) == set(original.labels)
        assert back.no_technique == original.no_technique
        for start, end, _ in back.spans:
            assert back.text[start:end] == original.text[start:end]
    fresh = records[f"ls-{text_hash(low_text)}"]
    # The latest annotation wins (annotator2's), character for character.
    assert fresh.spans == ((22, 41, "doubt"),) and fresh.text == low_text
    assert low_text[22:41] == "nothing will change"

    # The data pipeline reads the pulled folder as it is.
    data = label_studio.load(labels_dir=tmp_path)
    assert len(data.documents) == 3 and {s.technique for s in data.spans} >= {"slogans", "doubt"}

    # Pulling an unchanged project rewrites nothing.
    again = sync.pull(client, "Round trip", tmp_path)
    assert again["path"] == result["path"] and not again["changed"]
    assert len(list((tmp_path / "curated").glob("*.jsonl"))) == 1


def test_second_push_imports_nothing_twice(client):
    first = sync.push(client, "Idempotent", _records(), UNLABELLED[:2], FakeAnalyzer())
    assert first["imported"] == 4
    second = sync.push(client, "Idempotent", _records(), UNLABELLED, FakeAnalyzer())
    assert second["project_id"] == first["project_id"] and not second["created"]
    assert second["imported"] == 1 and second["skipped_existing"] == 4
    texts = [t.data["text"] for t in _tasks(client, first["project_id"])]
    assert len(texts) == len(set(texts)) == 5
    assert sync.push(client, "Idempotent", _records(), UNLABELLED)["imported"] == 0


def test_label_sync_dag_triggers_the_pipeline(server, client, tmp_path, monkeypatch):
    """The DAG's configured path: pull, count, trigger once, then nothing new to train on."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils import db
    from conftest import ROOT

    from mindlens.config import reset_settings_cache

    pushed = sync.push(client, "DAG", _records())
    task = _tasks(client, pushed["project_id"])[0]
    client.annotations.create(id=task.id, result=client.predictions.list(task=task.id)[0].result)
    monkeypatch.setenv("MINDLENS_LABEL_STUDIO_URL", server.url)
    monkeypatch.setenv("MINDLENS_LABEL_STUDIO_TOKEN", server.token)
    monkeypatch.setenv("MINDLENS_LABEL_STUDIO_PROJECT", "DAG")
    monkeypatch.setenv("MINDLENS_STATE_DIR", str(tmp_path))
    reset_settings_cache()
    db.resetdb()
    dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag("mindlens_label_sync")

    run = dag.test(run_conf={"min_new_labels": 1})
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success" and states["trigger_pipeline"] == "success", states
    assert states["mark_trained"] == "success"
    assert len(list((tmp_path / "labels" / "curated").glob("*.jsonl"))) == 1
    assert state.count_new_labels(tmp_path / "labels") == 0

    run = dag.test(run_conf={"min_new_labels": 1})
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success" and states["trigger_pipeline"] == "skipped", states
