"""One source of configuration: ``configs/default.yaml`` plus ``MINDLENS_*`` overrides.

Precedence (highest first): keyword arguments, environment variables
(``MINDLENS_SERVING__PORT=9000``; the older ``MINDLENS_LABEL_STUDIO_URL`` style names of
``LEGACY_ENV`` below the nested ones), the YAML file (``MINDLENS_CONFIG`` or
``configs/default.yaml``), then the defaults below. Secrets (the Label Studio token) come
from the environment only. Relative paths resolve
against the project root so every process (CLI, Airflow worker, notebook
kernel) agrees whatever its working directory.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from mindlens import families  # plain data: no torch, nothing that imports this module
from mindlens.paths import Paths

_CHECKOUT = Path(__file__).resolve().parents[2]
_IN_CHECKOUT = (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "src" / "mindlens").is_dir()
# Relative paths in the config resolve here: the source checkout, or for an installed wheel
# (no checkout around) the working directory the first MindLens import ran in.
PROJECT_ROOT = _CHECKOUT if _IN_CHECKOUT else Path.cwd().resolve()
# The repository files the library reads at run time (configs/, notebooks/, dags/, plugins/,
# label_studio/, data/curated/): the checkout's, or the copies a wheel carries (setup.py).
RESOURCE_ROOT = _CHECKOUT if _IN_CHECKOUT else Path(__file__).resolve().parent / "_resources"


def config_file() -> Path:
    """The YAML file in force: ``MINDLENS_CONFIG`` or the project's default."""
    return Path(os.environ.get("MINDLENS_CONFIG", RESOURCE_ROOT / "configs" / "default.yaml"))


class MlflowSettings(BaseModel):
    tracking_uri: str | None = None
    artifact_root: str | None = None
    experiment: str = "mindlens"
    registered_model: str = "mindlens-analyzer"
    champion_alias: str = "champion"


class DataSettings(BaseModel):
    seed: int = 13
    val_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    max_documents: int | None = Field(None, ge=2)
    sources: list[str] = ["ptc", "semeval2021", "clickbait", "logic", "curated", "label_studio", "feedback"]


class BaselineSettings(BaseModel):
    sources: list[str] = ["ptc"]
    document_sources: list[str] = ["semeval2021", "logic"]
    clickbait_sources: list[str] = ["clickbait"]
    max_features: int = Field(50000, ge=10)
    ngram_max: int = Field(2, ge=1, le=3)
    min_df: int = Field(2, ge=1)
    C: float = Field(4.0, gt=0)
    class_weight: str | None = "balanced"
    threshold: float = Field(0.5, gt=0, lt=1)
    use_signals: bool = False  # add the heuristic signals as features


# Prefixes of the protocol's metrics (docs/VALIDATION.md): grouped k-fold CV of a fast
# candidate (``cv_X``, sd ``cv_X_sd``), the grouped held-out part of a ``mindlens protocol
# holdout`` dataset (``holdout_X``), and the legacy val articles whose story no legacy
# train article tells (``unseen_X``, article-bootstrap sd ``unseen_X_sd``). ``val_X`` is
# the legacy random split.
PROTOCOL_PREFIXES = ("cv_", "holdout_", "unseen_")


def legacy_metric(metric: str) -> str:
    """The legacy ``val_`` metric a protocol metric estimates (``cv_flc_f1`` -> ``val_flc_f1``);
    a legacy metric is its own. Used where one side of a comparison has no protocol figure."""
    for prefix in PROTOCOL_PREFIXES:
        if metric.startswith(prefix):
            return "val_" + metric.removeprefix(prefix)
    return metric


class SelectionSettings(BaseModel):
    """The rule that picks a winner among candidates and against the champion."""

    metric: str = "cv_flc_f1"  # higher is better; cv_/holdout_ (protocol) or val_ (legacy split)
    max_p95_latency_ms: float | None = Field(None, gt=0)  # per document; None: no bound

    @property
    def legacy_metric(self) -> str:
        return legacy_metric(self.metric)


class Candidate(BaseModel):
    """One model the pipeline trains (one mapped Airflow task each)."""

    name: str = Field(..., pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    family: str  # a name or alias of mindlens.families (kept as given)
    params: dict[str, Any] = {}  # BaselineSettings overrides (tfidf) or TaggerTrainConfig fields

    @field_validator("family")
    @classmethod
    def _known_family(cls, value: str) -> str:
        families.family(value)  # raises naming the known families
        return value


class TrainSettings(BaseModel):
    selection: SelectionSettings = SelectionSettings()
    candidates: list[Candidate] = [Candidate(name="tfidf", family="tfidf")]
    baseline: BaselineSettings = BaselineSettings()

    @property
    def selection_metric(self) -> str:
        return self.selection.metric


class GateSettings(BaseModel):
    """When a retrained candidate may replace the champion (both scored on the same sets)."""

    tolerance: float = Field(0.01, ge=0)  # largest allowed drop on any gate metric (absolute)
    # PTC tasks on the unseen-story val articles (neither model saw their story); the other
    # sources' seeded val splits have no story leak.
    metrics: list[str] = [
        "unseen_micro_f1",
        "unseen_macro_f1",
        "unseen_slc_f1",
        "unseen_si_f1",
        "unseen_tc_micro_f1",
        "unseen_flc_f1",
        "val_semeval2021_micro_f1",
        "val_logic_micro_f1",
        "val_clickbait_f1",
        "curated_test_micro_f1",
    ]
    feedback_metric: str = "feedback_agreement"  # on the reviewed feedback examples
    require_feedback_improvement: bool = True  # candidate must beat the champion on it
    # A metric with a paired article-bootstrap sd of the difference (the unseen_ ones) fails
    # only when its drop exceeds tolerance + noise_z * that sd: on a few dozen articles a
    # drop of a point is noise, and the gate should not be a coin toss. 0: the plain rule.
    noise_z: float = Field(1.645, ge=0)


class RetrainSettings(BaseModel):
    """The ``mindlens_retrain`` DAG: rebuild with reviewed feedback, retrain, gate, redeploy."""

    candidates: list[Candidate] = [
        Candidate(name="retrain-tfidf", family="tfidf", params={"sources": ["ptc", "curated", "feedback"]})
    ]
    gate: GateSettings = GateSettings()
    trigger_on_feedback: bool = True  # mindlens_label_sync triggers a retrain ...
    min_new_feedback: int = Field(1, ge=1)  # ... once this many reviewed feedback texts are new


class ServingSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    api_url: str | None = None
    # A secret: from the environment only (MINDLENS_SERVING__ADMIN_TOKEN), never the config file;
    # unset: `mindlens serve` generates one into <state_dir>/admin_token and every process reads it.
    # Without any, /admin/* and GET /feedback/{id} are closed to everyone.
    admin_token: str | None = Field(None, repr=False)
    # `mindlens serve` refuses to start on a missing (or unreadable) registry database unless
    # this is set; `mindlens registry bootstrap` and the pipeline create it.
    create_registry: bool = False
    max_text_chars: int = Field(20000, ge=1)
    max_batch_texts: int = Field(32, ge=1)
    # admission control (serving/admission.py): analyses at once, waiting, and the longest wait
    max_concurrent_analyses: int = Field(2, ge=1)
    max_queued_analyses: int = Field(16, ge=0)
    max_queue_wait_s: float = Field(10.0, gt=0)
    # a request's analyses (queue wait included) end by then: a batch estimated to take longer
    # is refused up front (413), one that runs past it stops between texts (503)
    max_request_s: float = Field(30.0, gt=0)
    # dynamic batching (serving/batching.py): `inference_workers` threads run the network, each
    # with `inference_threads` ONNX Runtime threads (0: one worker per core, one thread each),
    # gathering concurrent requests' windows into batches of at most `batch_max_tokens` padded
    # tokens, waiting at most `batch_max_wait_ms` for companions; off: each request runs it
    dynamic_batching: bool = True
    inference_workers: int = Field(0, ge=0)
    inference_threads: int = Field(0, ge=0)
    batch_max_tokens: int = Field(192, ge=16)
    batch_max_wait_ms: float = Field(2.0, ge=0, le=1000)
    # texts analysed per client address in any minute (/analyze, /analyze/batch: 429); 0: off
    analyze_rate_limit_per_minute: int = Field(600, ge=0)
    reload_interval_s: float = Field(300, ge=0)
    min_confidence: float = Field(0.5, ge=0, le=1)
    # quoted words count this much in the document scores (1: fully, as in PTC scoring)
    quoted_weight: float = Field(0.5, ge=0, le=1)
    prediction_log: bool = True  # JSON lines under <state_dir>/predictions/
    # rotated at this size or age (a rotated file gets .1, .2, ...; this many are kept)
    prediction_log_max_mb: float = Field(50, gt=0)
    prediction_log_max_age_h: float = Field(24, gt=0)
    prediction_log_backups: int = Field(7, ge=1)
    log_text: str = Field("hash", pattern=r"^(hash|truncate|full)$")  # what of the input to keep
    cors_origins: list[str] = []  # browsers from these origins may call the API

    @property
    def url(self) -> str:
        return self.api_url or f"http://{self.host}:{self.port}"

    @field_validator("admin_token", mode="before")
    @classmethod
    def _blank_token_is_unset(cls, value: Any) -> Any:
        return None if value in ("", None) else value


class UrlFetchSettings(BaseModel):
    """``POST /analyze`` with a ``url`` (and the demo's URL box): what the server may fetch.
    Only http/https; every address the host resolves to (and every redirect's) must be public
    (not loopback, private, link-local, ...) or inside ``allowed_networks`` (the tests allow
    ``127.0.0.1/32``; a local deployment might allow its intranet)."""

    enabled: bool = True
    # off: only allowed_networks may be fetched and host names other than localhost are refused
    # before any DNS lookup, so nothing leaves the machine (the tests run so)
    public: bool = True
    timeout_s: float = Field(10.0, gt=0)  # the whole fetch: connect, redirects, body
    max_bytes: int = Field(2_000_000, ge=1024)  # the page's body (413 above)
    max_redirects: int = Field(5, ge=0)
    allowed_networks: list[str] = []  # CIDRs allowed although not public, e.g. ["127.0.0.1/32"]
    min_article_chars: int = Field(200, ge=1)  # less extracted text: "no article" (a menu, a login form)
    user_agent: str = "MindLens/0.1 (article analysis)"

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad one
        return value


class LinksSettings(BaseModel):
    """Where the companion web UIs run, for the landing page (``GET /``); unset: not shown.
    MLflow defaults to ``mlflow.tracking_uri`` when that is an http(s) server; Label Studio to
    ``label_studio.url`` once labelling is configured (a token is set)."""

    mlflow_ui: str | None = Field(None, pattern=r"^https?://")
    airflow_ui: str | None = Field(None, pattern=r"^https?://")
    label_studio_ui: str | None = Field(None, pattern=r"^https?://")
    grafana_ui: str | None = Field(None, pattern=r"^https?://")


class ReportSettings(BaseModel):
    """How executed notebooks render to HTML (the reports in the state folder and in MLflow)."""

    include_code: bool = False  # the .ipynb always keeps the code; the HTML is for reading


class MonitoringSettings(BaseModel):
    """Prometheus drift gauges, JSON logs and the drift-report DAG (see README, Monitoring)."""

    drift_window: int = Field(200, ge=1)  # most recent texts the service compares to the reference
    drift_min_texts: int = Field(30, ge=1)  # no drift gauge until the window holds this many
    drift_psi_alert: float = Field(0.25, gt=0)  # PSI above this is "drifted" (alert rule and DAG)
    reference_max_texts: int = Field(300, ge=10)  # validation texts a computed reference analyses
    report_max_predictions: int = Field(5000, ge=1)  # prediction-log lines the drift report reads
    retrain_min_predictions: int = Field(100, ge=1)  # no retraining advice on fewer predictions
    trigger_retrain: bool = False  # the monitoring DAG triggers mindlens_retrain when due
    retrain_dag_id: str = "mindlens_retrain"
    log_format: str = Field("json", pattern=r"^(json|text)$")  # `mindlens serve` log lines


class FeedbackSettings(BaseModel):
    """User feedback on predictions (POST /feedback, the demo's confirm/correct controls)."""

    database_url: str | None = None  # default: sqlite:///<state_dir>/feedback.db
    max_corrections: int = Field(200, ge=1)  # per feedback item (413 above)
    max_comment_chars: int = Field(2000, ge=1)  # 413 above
    rate_limit_per_minute: int = Field(120, ge=0)  # POST /feedback per client address (429); 0: off


class LabelStudioSettings(BaseModel):
    """The Label Studio that ``mindlens labels ...`` and ``mindlens_label_sync`` talk to."""

    url: str = "http://127.0.0.1:8081"
    project: str = "MindLens"  # curated examples and their relabels
    feedback_project: str = "MindLens feedback"  # user feedback under review
    # A secret: from the environment only (MINDLENS_LABEL_STUDIO_TOKEN or
    # MINDLENS_LABEL_STUDIO__TOKEN), never the config file; unset: labelling is off.
    token: SecretStr | None = None

    @field_validator("token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @property
    def configured(self) -> bool:
        return self.token is not None


# Variables that predate the ``label_studio`` section (README, label_studio/README.md,
# docker-compose.yml): they keep working, below the nested MINDLENS_LABEL_STUDIO__<KEY>
# and above the YAML file. Empty means unset, as it always did.
LEGACY_ENV = {
    "MINDLENS_LABEL_STUDIO_URL": ("label_studio", "url"),
    "MINDLENS_LABEL_STUDIO_TOKEN": ("label_studio", "token"),
    "MINDLENS_LABEL_STUDIO_PROJECT": ("label_studio", "project"),
    "MINDLENS_LABEL_STUDIO_FEEDBACK_PROJECT": ("label_studio", "feedback_project"),
}
# read from the environment only: (section, key) -> the variable to set
SECRETS = {
    ("label_studio", "token"): "MINDLENS_LABEL_STUDIO_TOKEN",
    ("serving", "admin_token"): "MINDLENS_SERVING__ADMIN_TOKEN",
}


class _LegacyEnvSource(PydanticBaseSettingsSource):
    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, dict[str, str]] = {}
        for variable, (section, key) in LEGACY_ENV.items():
            if os.environ.get(variable):
                values.setdefault(section, {})[key] = os.environ[variable]
        return values


class _YamlSource(YamlConfigSettingsSource):
    """The YAML file, refusing secrets (they belong in the environment)."""

    def __call__(self) -> dict[str, Any]:
        values = super().__call__()
        for (section, key), variable in SECRETS.items():
            if isinstance(values.get(section), dict) and values[section].get(key) is not None:
                raise ValueError(
                    f"{section}.{key} is a secret: set it in the environment ({variable}), "
                    f"not in {config_file()}"
                )
        return values


class ProtocolSettings(BaseModel):
    """Grouped validation (``mindlens protocol``, validation/protocol.py; see docs/VALIDATION.md)."""

    k: int = Field(5, ge=2)  # folds of the grouped cross-validation
    seed: int = 13  # deals groups into folds and picks the held-out part
    similarity_threshold: float = Field(0.25, gt=0, le=1)  # TF-IDF cosine that links two articles
    holdout_fraction: float = Field(0.2, gt=0, lt=1)  # grouped held-out part for slow models
    inner_fraction: float = Field(0.15, gt=0, lt=1)  # their early-stopping part, inside training
    cv_candidates: bool = True  # the training stage cross-validates fast candidates (cv_ metrics)
    cv_threads: int = Field(1, ge=1)  # BLAS/OpenMP threads while it does (more oversubscribes)
    bootstrap_draws: int = Field(200, ge=10)  # article-bootstrap draws of the unseen_ sds


class Settings(BaseSettings):
    """Validated settings; see ``configs/default.yaml`` for the meaning of each key."""

    model_config = SettingsConfigDict(env_prefix="MINDLENS_", env_nested_delimiter="__", extra="forbid")

    state_dir: Path = Path(".mindlens")
    data_dir: Path = Path("../shared/datasets")
    mlflow: MlflowSettings = MlflowSettings()
    data: DataSettings = DataSettings()
    train: TrainSettings = TrainSettings()
    retrain: RetrainSettings = RetrainSettings()
    serving: ServingSettings = ServingSettings()
    url_fetch: UrlFetchSettings = UrlFetchSettings()
    links: LinksSettings = LinksSettings()
    reports: ReportSettings = ReportSettings()
    feedback: FeedbackSettings = FeedbackSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    label_studio: LabelStudioSettings = LabelStudioSettings()
    protocol: ProtocolSettings = ProtocolSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_source = _YamlSource(settings_cls, yaml_file=config_file())
        return init_settings, env_settings, _LegacyEnvSource(settings_cls), yaml_source

    @field_validator("state_dir", "data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        value = value.expanduser()
        return value if value.is_absolute() else (PROJECT_ROOT / value).resolve()

    @model_validator(mode="after")
    def _derive(self) -> Settings:
        paths = self.paths
        if self.mlflow.tracking_uri is None:
            self.mlflow.tracking_uri = f"sqlite:///{paths.mlflow_db}"
        if self.mlflow.artifact_root is None:
            self.mlflow.artifact_root = str(paths.mlflow_artifacts)
        if self.feedback.database_url is None:
            self.feedback.database_url = f"sqlite:///{paths.feedback_db}"
        if self.serving.admin_token is None:  # the one `mindlens serve` generated, if any
            try:
                self.serving.admin_token = paths.admin_token.read_text(encoding="utf-8").strip() or None
            except OSError:
                pass
        return self

    # Derived locations live in ``Paths`` (mindlens.paths), so no other module invents its own.
    @property
    def paths(self) -> Paths:
        """Every file and folder under ``state_dir``."""
        return Paths.from_settings(self)

    @property
    def processed_dir(self) -> Path:
        return self.paths.processed_data

    @property
    def reports_dir(self) -> Path:
        return self.paths.reports

    @property
    def airflow_home(self) -> Path:
        return self.paths.airflow_home

    def ensure_dirs(self) -> None:
        self.paths.ensure()


@lru_cache(maxsize=1)
def _cached() -> Settings:
    return Settings()


def get_settings(**overrides: Any) -> Settings:
    """Settings for this process (cached); keyword overrides build a fresh copy."""
    return Settings(**overrides) if overrides else _cached()


def reset_settings_cache() -> None:
    """Forget cached settings (tests change the environment)."""
    _cached.cache_clear()
