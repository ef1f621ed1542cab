"""MPNet-base teacher -> MiniLM student on a lent GPU, in one file (docs/DISTILLATION.md).

The GPU machine reaches no network and receives at most 64 MiB a call (working tree
included), so everything it needs travels as chunks of one tar in ``.carry/`` (git-ignored):

``pack`` (here, with the project's venv; CPU): the processed dataset, the wheels the GPU
image lacks (pydantic & co.), fp16 copies of MiniLM and MPNet, one tar cut into
``.carry/NN`` chunks that fit beside the working tree; prints the device calls to make.

``have`` (there): which chunks arrived (a warm machine keeps each carried chunk).

``run`` (there, after the last chunk; ``--stages`` splits it over calls of at most 10
minutes): join and check the chunks, install the wheels, train the teacher (``teacher``),
write its soft targets (``soft``), train the student with them (``student``) and, if
asked, the same student without them (``control``), export the student to int8 ONNX and
score every model on the validation split (``score``; gold, thresholds and early stopping
inside training, as usual); writes ``$OUT/results.json``, ``$OUT/log.txt`` and the
student's torch folder (fp16 encoder) as ``$OUT/student.tar.NN`` parts of at most 15 MiB.

``collect`` (here): join the parts into ``DIR/best``, for ``mindlens registry
build-release --tagger DIR/best``.

Runs on CPU too (``run --device cpu``, hours; ``--quick`` for a minutes-long smoke run).
Standard library only until ``run`` has installed the wheels.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CARRY = ROOT / ".carry"
MIB = 1 << 20
DEVICE_LIMIT = 64 * MIB  # what one device call may carry, working tree included
RETURN_PART = 15 * MIB  # files coming back: at most 16 MiB each, 8 files
# what `python -m mindlens.training` imports that the GPU image lacks (KINDS.md's list)
WHEELS = (
    "pydantic",
    "pydantic-core",
    "pydantic-settings",
    "python-dotenv",
    "annotated-types",
    "typing-inspection",
)
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")


def sh(*cmd: str, log: Path | None = None, env: dict[str, str] | None = None) -> None:
    """Run a command, echoing it (and its output into ``log``); fail loudly."""
    print("$", " ".join(cmd), flush=True)
    started = time.perf_counter()
    with open(log, "a") if log else open(os.devnull, "w") as sink:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sink.write(line)
        if proc.wait():
            raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)


def tracked_bytes() -> int:
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    return sum((ROOT / f.decode()).stat().st_size for f in files if f and (ROOT / f.decode()).is_file())


# --- here --------------------------------------------------------------------------------
def pack(args: argparse.Namespace) -> None:
    from importlib.metadata import version

    state = Path(os.environ.get("MINDLENS_STATE_DIR", ROOT / ".mindlens"))
    data = Path(args.data or state / "data")
    if not (data / "manifest.json").is_file():
        raise SystemExit(f"no processed dataset in {data}: run `mindlens data prepare` (or pass --data)")
    staging = CARRY / "staging"
    shutil.rmtree(CARRY, ignore_errors=True)
    (staging / "wheels").mkdir(parents=True)
    shutil.copytree(data, staging / "data", ignore=shutil.ignore_patterns("*.csv"))
    pins = [f"{name}=={version(name)}" for name in WHEELS]
    platforms = [x for p in PLATFORMS for x in ("--platform", p)]
    sh(sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version",
       "3.12", "--implementation", "cp", *platforms, "-d", str(staging / "wheels"), *pins)  # fmt: skip
    for alias in ("minilm", "mpnet"):
        sh(sys.executable, "-m", "mindlens.training", "compact-backbone", alias, str(staging / alias))
    whole = CARRY / "bundle.tar"
    with tarfile.open(whole, "w") as tar:
        tar.add(staging, arcname="bundle")
    shutil.rmtree(staging)
    room = DEVICE_LIMIT - tracked_bytes() - 2 * MIB  # margin for files added before the call
    chunk = min(args.chunk_mib * MIB, room) if args.chunk_mib else room
    if chunk < MIB:
        raise SystemExit(f"the working tree leaves {room / MIB:.1f} MiB of the 64 MiB a call carries")
    digest, size, parts = hashlib.sha256(), whole.stat().st_size, 0
    with open(whole, "rb") as src:
        while block := src.read(chunk):
            digest.update(block)
            (CARRY / f"{parts:02d}").mkdir()
            (CARRY / f"{parts:02d}" / "part").write_bytes(block)
            parts += 1
    whole.unlink()
    (CARRY / "bundle.json").write_text(
        json.dumps({"sha256": digest.hexdigest(), "bytes": size, "parts": parts})
    )
    print(f"\n{size / MIB:.0f} MiB in {parts} chunks of {chunk / MIB:.1f} MiB under {CARRY}; device calls:")
    for n in range(parts):
        print(
            f"  run(carry=['.carry/bundle.json', '.carry/{n:02d}'], command='python3 benchmarks/distil_gpu.py have')"
        )
    print("  run(command='python3 benchmarks/distil_gpu.py run --stages teacher,soft')")
    print("  run(command='python3 benchmarks/distil_gpu.py run --stages student,score')")


def collect(args: argparse.Namespace) -> None:
    parts = sorted(Path(args.files).glob("student.tar.*"))
    if not parts:
        raise SystemExit(f"no student.tar.* parts in {args.files}")
    joined = Path(args.out) / "student.tar"
    joined.parent.mkdir(parents=True, exist_ok=True)
    with open(joined, "wb") as out:
        for part in parts:
            out.write(part.read_bytes())
    with tarfile.open(joined) as tar:
        tar.extractall(args.out, filter="data")
    joined.unlink()
    print(f"{Path(args.out) / 'best'}: `mindlens registry build-release --tagger` packs it")


# --- there -------------------------------------------------------------------------------
def have(_: argparse.Namespace) -> None:
    meta = json.loads((CARRY / "bundle.json").read_text())
    present = [n for n in range(meta["parts"]) if (CARRY / f"{n:02d}" / "part").is_file()]
    print(f"chunks here: {present} of {meta['parts']}")


def unpack(work: Path) -> Path:
    meta = json.loads((CARRY / "bundle.json").read_text())
    missing = [n for n in range(meta["parts"]) if not (CARRY / f"{n:02d}" / "part").is_file()]
    if missing:
        raise SystemExit(f"chunks {missing} never arrived (the machine went cold between calls?)")
    whole, digest = work / "bundle.tar", hashlib.sha256()
    with open(whole, "wb") as out:
        for n in range(meta["parts"]):
            block = (CARRY / f"{n:02d}" / "part").read_bytes()
            digest.update(block)
            out.write(block)
    if digest.hexdigest() != meta["sha256"]:
        raise SystemExit("the joined chunks do not match bundle.json's sha256")
    with tarfile.open(whole) as tar:
        tar.extractall(work, filter="data")
    whole.unlink()
    return work / "bundle"


def place_dataset(data: Path) -> Path:
    """The carried manifest, its table paths pointed at where they now are."""
    manifest = json.loads((data / "manifest.json").read_text())
    manifest["folder"] = str(data)
    manifest["tables"] = {k: str(data / Path(v).name) for k, v in manifest["tables"].items()}
    (data / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return data / "manifest.json"


STAGES = ("teacher", "soft", "student", "control", "score")


def run(args: argparse.Namespace) -> None:
    """The stages asked for (a device command runs at most 10 minutes: split them over
    calls while the machine is warm; ``work`` keeps what earlier stages made)."""
    stages = args.stages.split(",")
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        raise SystemExit(f"unknown stages {unknown}: choose from {', '.join(STAGES)}")
    out = Path(os.environ.get("OUT") or args.out or ROOT / "distil-out")
    out.mkdir(parents=True, exist_ok=True)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    log = work / "log.txt"  # log and results live in work ($OUT is emptied before each call)
    bundle = Path(args.bundle) if args.bundle else work / "bundle"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(work / "site")]), PYTHONUNBUFFERED="1"
    )
    env |= {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MINDLENS_STATE_DIR": str(work / "state")}
    if not bundle.is_dir():
        unpack(work)
        wheels = sorted(str(p) for p in (bundle / "wheels").glob("*.whl"))
        if wheels:
            sh(sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile", "--target",
               str(work / "site"), *wheels, log=log)  # fmt: skip
    manifest = str(place_dataset(bundle / "data"))
    py = (sys.executable, "-m", "mindlens.training")
    quick = ["--max-train-sentences", "64", "--max-val-sentences", "48", "--max-clickbait-headlines", "64"]
    common = ["--family", "multitask", "--device", args.device, "--manifest", manifest, "--batch-size", "32",
              "--max-clickbait-headlines", str(args.headlines), "--patience", "2"]  # fmt: skip
    common += ["--bf16"] if args.device == "cuda" else []
    common += quick if args.quick else []
    results_file = work / "results.json"
    results = json.loads(results_file.read_text()) if results_file.is_file() else {"seconds": {}}
    results |= {"device": args.device, "quick": args.quick}
    results.setdefault("settings", {})[",".join(stages)] = {
        k: v for k, v in vars(args).items() if k != "func"
    }
    soft = work / "soft.npz"
    student = [*py, "train", "--backbone", str(bundle / "minilm"), "--record-backbone", "minilm",
               "--epochs", str(args.student_epochs), "--learning-rate", "8e-5", "--half-encoder", *common]  # fmt: skip
    commands = {
        "teacher": [*py, "train", "--out", str(work / "teacher"), "--backbone", str(bundle / "mpnet"),
                    "--epochs", str(args.teacher_epochs), "--learning-rate", "3e-5", *common],
        "soft": [*py, "soft-labels", "--teacher", str(work / "teacher" / "best"), "--out", str(soft),
                 "--manifest", manifest, "--device", args.device, "--max-per-source", str(args.max_per_source),
                 "--batch-size", "128"],
        "student": [*student, "--out", str(work / "student"), "--distill-soft-targets", str(soft),
                    "--distill-alpha", str(args.alpha), "--distill-temperature", str(args.temperature)],
        "control": [*student, "--out", str(work / "control")],
        "score": [sys.executable, __file__, "score", "--work", str(work), "--manifest", manifest,
                  *(["--max-val", "48"] if args.quick else [])],
    }  # fmt: skip
    try:
        for stage in STAGES:
            if stage in stages:
                started = time.perf_counter()
                sh(*commands[stage], log=log, env=env)
                results["seconds"][stage] = round(time.perf_counter() - started, 1)
                results_file.write_text(json.dumps(results, indent=2))
    finally:  # what ran comes back, also when a stage failed
        for name in ("log.txt", "results.json"):
            if (work / name).is_file():
                shutil.copy(work / name, out / name)
    if "score" in stages:
        results |= json.loads((work / "scores.json").read_text())
        results_file.write_text(json.dumps(results, indent=2))
        shutil.copy(results_file, out / "results.json")
        with tarfile.open(work / "student.tar", "w") as tar:
            tar.add(work / "student" / "best", arcname="best")
            tar.add(work / "student" / "metrics.json", arcname="metrics.json")
        data = (work / "student.tar").read_bytes()
        for n in range(0, len(data), RETURN_PART):
            (out / f"student.tar.{n // RETURN_PART:02d}").write_bytes(data[n : n + RETURN_PART])
    print(json.dumps(results, indent=2))


def score(args: argparse.Namespace) -> None:
    """Every model on the validation split (torch) and the student as the served int8 graph."""
    from mindlens.config import get_settings
    from mindlens.data.dataset import Manifest
    from mindlens.models.onnx_tagger import OnnxTagger, export_onnx
    from mindlens.models.torch_tagger import TorchTagger
    from mindlens.training.loop import training_data
    from mindlens.training.train_config import TaggerTrainConfig
    from mindlens.training.validation import evaluate_heads

    work, settings = Path(args.work), get_settings()
    manifest = Manifest.read(Path(args.manifest))
    config = TaggerTrainConfig(family="multitask", max_val_sentences=args.max_val)
    _, val, headlines = training_data(settings, manifest, config)
    scores: dict[str, dict[str, float]] = {}
    for name in ("teacher", "student", "control"):
        if (work / name / "best").is_dir():
            tagger = TorchTagger.load(work / name / "best")
            scores[name] = evaluate_heads(tagger, val, manifest, headlines["val"])
    student = TorchTagger.load(work / "student" / "best")
    export_onnx(student, work / "onnx")
    served = OnnxTagger.load(work / "onnx")
    scores["student_int8"] = evaluate_heads(served, val, manifest, headlines["val"])
    sizes = {p.name: p.stat().st_size for p in (work / "onnx").glob("*.onnx")}
    (work / "scores.json").write_text(json.dumps({"val": scores, "onnx_bytes": sizes}, indent=2))


def main() -> None:
    top = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = top.add_subparsers(required=True)
    p = commands.add_parser("pack", help="here: .carry/ chunks for the device calls")
    p.add_argument("--data", help="processed dataset folder (default: $MINDLENS_STATE_DIR/data)")
    p.add_argument("--chunk-mib", type=int, help="chunk size (default: what the working tree leaves)")
    p.set_defaults(func=pack)
    p = commands.add_parser("have", help="there: which chunks arrived")
    p.set_defaults(func=have)
    p = commands.add_parser("run", help="there: teacher, soft targets, student, export, scores")
    p.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    p.add_argument("--work", default="/tmp/distil", help="scratch folder")
    p.add_argument("--out", help="results folder when $OUT is unset")
    p.add_argument("--bundle", help="an unpacked bundle folder to use instead of .carry/")
    p.add_argument(
        "--stages",
        default=",".join(s for s in STAGES if s != "control"),
        help=f"comma-separated, of {','.join(STAGES)} (control: the student without the teacher)",
    )
    p.add_argument("--teacher-epochs", type=int, default=2)
    p.add_argument("--student-epochs", type=int, default=5, help="V1's")
    p.add_argument("--headlines", type=int, default=8000, help="clickbait training headlines (as V1)")
    p.add_argument("--max-per-source", type=int, default=8000, help="soft-target texts per source")
    p.add_argument("--alpha", type=float, default=0.5)
    p.add_argument("--temperature", type=float, default=2.0)
    p.add_argument("--quick", action="store_true", help="samples of a few dozen texts: a smoke run")
    p.set_defaults(func=run)
    p = commands.add_parser("score", help="(run's last step)")
    p.add_argument("--work", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("--max-val", type=int, help="seeded sample of val sentences and headlines")
    p.set_defaults(func=score)
    p = commands.add_parser("collect", help="here: join the returned student.tar.NN into DIR/best")
    p.add_argument("files", help="the folder the device call's files came back to (files_at)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=collect)
    args = top.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
