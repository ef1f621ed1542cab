"""The Label Studio round trip against an in-memory stand-in for the SDK client: push
(projects, tasks, pre-annotations), pull (annotations back into curated snapshots) and the
sync state, module by module as ``mindlens.labelling`` splits them. The same round trip
against a real Label Studio: ``tests/integration/test_label_studio.py``."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from mindlens.data.sources import curated, label_studio
from mindlens.labelling import annotations, projects, snapshots, state, sync
from mindlens.labelling.connection import LabelStudioError
from mindlens.labelling.tasks import HASH_KEY, text_hash

TEXT = "Make our streets safe again! The council meets on Tuesday."
CURATED = [
    {"id": "c-1", "text": TEXT, "spans": [{"start": 0, "end": 28, "technique": "slogans"}]},
    {"id": "c-2", "text": "The council meets on Tuesday at 10 a.m.", "no_technique": True},
]
UNLABELLED = ["Every true patriot will stand with us.", "It is what it is."]
CONFIDENCE = {UNLABELLED[0]: 0.9, UNLABELLED[1]: 0.4}


class FakeAnalyzer:
    def analyze(self, text: str) -> dict:
        return {
            "spans": [{"start": 0, "end": 5, "technique": "flag_waving", "confidence": CONFIDENCE[text]}],
            "document": {"score": CONFIDENCE[text]},
        }


class FakeClient:
    """Just the SDK calls the labelling modules make (projects, tasks, import, export)."""

    def __init__(self) -> None:
        self.projects_by_id: dict[int, dict] = {}
        self.tasks_by_project: dict[int, list[dict]] = {}
        self.projects = SimpleNamespace(
            list=self._list_projects,
            create=self._create_project,
            update=self._update_project,
            import_tasks=self._import_tasks,
            exports=SimpleNamespace(download_sync=self._export),
        )
        self.tasks = SimpleNamespace(list=self._list_tasks)

    def _list_projects(self, title: str) -> list[dict]:
        return [p for p in self.projects_by_id.values() if title in p["title"]]

    def _create_project(self, title: str, **fields) -> dict:
        project = {"id": len(self.projects_by_id) + 1, "title": title, **fields}
        self.projects_by_id[project["id"]] = project
        self.tasks_by_project[project["id"]] = []
        return project

    def _update_project(self, project_id: int, **fields) -> None:
        self.projects_by_id[project_id].update(fields)

    def _import_tasks(self, id: int, request: list[dict], return_task_ids: bool) -> dict:
        tasks = self.tasks_by_project[id]
        for task in request:
            tasks.append({"id": 100 * id + len(tasks) + 1, "annotations": [], **task})
        return {"task_count": len(request)}

    def _list_tasks(self, project: int, fields: str) -> list[dict]:
        return self.tasks_by_project[project]

    def _export(self, project_id: int, export_type: str, download_all_tasks: bool):
        yield json.dumps(self.tasks_by_project[project_id]).encode()

    def annotate(self, task: dict, result: list[dict], who: str = "a@example.com", when: str = "1") -> None:
        n = len(task["annotations"]) + 1
        task["annotations"].append({"id": n, "completed_by": who, "updated_at": when, "result": result})


def _records() -> list[curated.Record]:
    return [curated.parse_record(obj, f"test:{i}") for i, obj in enumerate(CURATED)]


def _span(text: str, start: int, end: int, technique: str) -> dict:
    return {
        "from_name": "technique",
        "to_name": "text",
        "type": "labels",
        "value": {"start": start, "end": end, "text": text[start:end], "labels": [technique]},
    }


def test_push_is_idempotent_and_queues_the_least_confident_first():
    client = FakeClient()
    pushed = sync.push(client, "P", _records(), UNLABELLED, FakeAnalyzer())
    assert pushed["created"] and (pushed["curated"], pushed["unlabelled"]) == (2, 2)
    tasks = client.tasks_by_project[pushed["project_id"]]
    assert [t["data"]["text"] for t in tasks] == [c["text"] for c in CURATED] + UNLABELLED[::-1]
    assert all(t["data"][HASH_KEY] == text_hash(t["data"]["text"]) for t in tasks)
    assert tasks[0]["predictions"][0]["model_version"] == "curated"
    assert tasks[2]["predictions"][0]["score"] == pytest.approx(0.4)
    again = sync.push(client, "P", _records(), UNLABELLED, FakeAnalyzer())
    assert not again["created"] and again["imported"] == 0 and again["skipped_existing"] == 4
    assert projects.existing_hashes(client, pushed["project_id"]) == {
        text_hash(c["text"]) for c in CURATED
    } | {text_hash(t) for t in UNLABELLED}


def test_pull_writes_one_validated_snapshot_and_the_state_counts_it(tmp_path):
    client = FakeClient()
    project_id = sync.push(client, "P", _records(), UNLABELLED)["project_id"]
    tasks = client.tasks_by_project[project_id]
    client.annotate(tasks[0], tasks[0]["predictions"][0]["result"])  # accepts the curated labels
    fresh = tasks[3]["data"]["text"]  # without an analyzer, unlabelled texts keep their order
    assert fresh == UNLABELLED[1]
    client.annotate(tasks[3], [_span(fresh, 0, 5, "flag_waving")], when="1")
    client.annotate(tasks[3], [_span(fresh, 6, 10, "loaded_language")], who="b@example.com", when="2")
    bad = {**_span(TEXT, 0, 4, "slogans"), "value": {"start": 0, "end": 4, "text": "nope", "labels": ["x"]}}
    client.annotate(tasks[1], [bad])

    result = sync.pull(client, "P", tmp_path)
    assert (result["tasks"], result["records"]) == (4, 2) and result["changed"]
    assert [c["task"] for c in result["conflicts"]] == [tasks[3]["id"]]
    assert [i["task"] for i in result["invalid"]] == [tasks[1]["id"]]
    path = Path(result["path"])
    assert path.parent == tmp_path / "curated" and snapshots._SNAPSHOT.match(path.name)
    records = {r["id"]: r for r in snapshots.previous_records(tmp_path / "curated")}
    assert records[f"ls-{text_hash(fresh)}"]["spans"][0]["technique"] == "loaded_language"  # latest wins
    assert len(label_studio.load(labels_dir=tmp_path).documents) == 2
    assert not sync.pull(client, "P", tmp_path)["changed"]

    assert state.count_new_labels(tmp_path) == 2
    state.mark_trained(tmp_path, "2026-01-01T00:00:00")
    assert state.count_new_labels(tmp_path) == 0
    assert (tmp_path / state.STATE_FILE).is_file() and state.STATE_FILE == "sync_state.json"
    with pytest.raises(LabelStudioError, match="no Label Studio project"):
        sync.pull(client, "missing", tmp_path)


def test_annotations_are_checked_against_the_text():
    labelled = annotations.annotation_to_labels(TEXT, [_span(TEXT, 0, 28, "slogans")])
    assert labelled["spans"] == [(0, 28, "slogans")]
    with pytest.raises(annotations.InvalidAnnotation, match="does not match"):
        annotations.annotation_to_labels(
            TEXT, [{**_span(TEXT, 0, 4, "slogans"), "value": {"start": 0, "end": 4, "text": "nope"}}]
        )
