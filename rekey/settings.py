"""Settings, read from the environment (prefix ``REKEY_``) or a ``.env`` file.

Nothing machine-specific or secret lives in code: paths default to the project's own
folders and the system Chromium; credentials come only from the environment.

The data folder defaults to ``var`` in the project folder, wherever rekey is started from;
a relative ``REKEY_DATA_DIR`` is taken from the folder rekey was started in, resolved once.
A ``REKEY_*`` name that is no setting is reported with the closest setting
(:func:`unknown_names`).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REKEY_", env_file=".env", extra="ignore")

    data_dir: Path = PROJECT_ROOT / "var"
    database_url: str | None = None  # any SQLAlchemy URL; default: SQLite under data_dir

    templates_dir: Path = PROJECT_ROOT / "samples" / "templates"
    rules_dir: Path = PROJECT_ROOT / "samples" / "rules"
    screens_dir: Path = PROJECT_ROOT / "samples" / "screens"

    # how Tesseract is run (extractors.engines): "pytesseract", a process per call, or
    # "tesserocr", its API in-process (the inprocess extra), faster where many calls are made
    ocr_engine: Literal["pytesseract", "tesserocr"] = "pytesseract"

    chromium_path: Path = Path("/usr/lib/chromium/chromium")
    headless: bool = True
    browser_timeout_ms: int = 15_000

    backoffice_url: str = "http://127.0.0.1:8765"
    backoffice_user: str = "clerk"
    backoffice_password: SecretStr | None = None

    ignore_patterns: list[str] = Field(
        default_factory=lambda: [".*", "*.truth.json", "*.reason.txt", "*.part"]
    )
    # operations: the scheduled batch and the deployments `rekey serve` runs (prefect.yaml)
    batch_inbox: Path | None = None  # the folder the scheduled batch processes; default data/inbox
    batch_cron: str = "0 7 * * 1-5"  # when the scheduled batch runs (cron, in batch_timezone)
    batch_timezone: str = "UTC"
    key_approved_every_s: int = 300  # how often approved cases are keyed
    prefect_server_timeout_s: float = 90  # how long `rekey serve` waits for a local server
    folder_workers: int = 2  # documents of a folder processed at once
    # signed-in browser sessions a worker process keeps open across a batch; its documents
    # take turns keying in them. One keys fastest on a small machine: on 2 cores two at once
    # took 0.84 s a claim each against 0.36 s for one (demo back office, loopback)
    keying_sessions: int = Field(default=1, ge=1)
    # back-office sessions open at once, all workers together (a Prefect global concurrency
    # limit); unset: no limit beyond keying_sessions per process
    backoffice_sessions: int | None = Field(default=None, ge=1)
    session_limit_name: str = "rekey-backoffice-sessions"  # its Prefect concurrency limit
    # a slot a crashed worker held comes free this long after its last renewal (Prefect's
    # minimum is 60 s; a live holder renews it every three quarters of that)
    session_lease_s: float = Field(default=60.0, ge=60)
    # the watched folder (`rekey watch INBOX`, or REKEY_WATCH_INBOX under `rekey serve`): its
    # subfolders, and when a file is complete
    watch_inbox: Path | None = None
    watch_stable_s: float = 1.0  # size and time unchanged this long, and no writer holds it
    watch_retry_s: float = 60.0  # how often files left in processing/ are looked at again
    watch_processing_dir: str = "processing"
    watch_done_dir: str = "done"
    watch_quarantine_dir: str = "quarantine"

    # the audit trail's anchor (rekey.audit): the HMAC key, from here or a key file in the
    # data folder (keys/audit.key, made once, readable by its owner only); the checkpoints
    # file is appended to every audit_checkpoint_every events and by `rekey audit verify`
    audit_key: SecretStr | None = None
    audit_key_file: Path | None = None
    audit_checkpoints: Path | None = None
    audit_checkpoint_every: int = Field(default=100, ge=1)

    keying_retries: int = 3
    keying_retry_delay_s: float = 1.0

    # reference data for the rules; when unset, the paths in the rule sets apply
    policy_register: Literal["csv", "backoffice"] = "csv"  # backoffice: its inquiry screen
    policies_csv: Path | None = None
    watchlist_csv: Path | None = None

    # back-office keying (connectors/backoffice)
    keying_mode: Literal["trusted", "fast", "type"] | None = None  # overrides every screen map
    keying_trace: bool = True  # a Playwright trace in the evidence folder when keying fails
    backoffice_password_block: str | None = None  # a Prefect Secret block with the password
    backoffice_idle_timeout_s: float = 900  # the demo back office's idle session timeout

    # the review station (`rekey review`; rekey/review)
    review_host: str = "127.0.0.1"
    review_port: int = 8780
    review_workers: int = 2  # server processes
    review_sla_hours: float = 24.0  # a case waiting longer is overdue
    review_four_eyes_amount: float = 10_000.0  # claims above it need a second approver
    review_amount_fields: list[str] = Field(default_factory=lambda: ["amount_claimed"])
    review_session_idle_s: float = 1800.0  # a session ends after this long without a request
    review_session_max_s: float = 12 * 3600.0  # and this long after sign-in, whatever happens
    review_key_at_once: bool = False  # key an approved case at once, not by `key_approved`
    review_secret: SecretStr | None = None  # signs the sign-in form's CSRF cookie; generated once
    review_page_size: int = 50
    # sign-in attempts (rekey/review/auth.py): after this many failures in a row a user name
    # or client address is refused, first for review_sign_in_first_block_s, twice as long
    # after each further failure, up to review_sign_in_max_block_s; a count with no failure
    # for review_sign_in_forget_s starts again
    review_sign_in_free_failures: int = Field(default=4, ge=0)
    review_sign_in_first_block_s: float = Field(default=30.0, gt=0)
    review_sign_in_max_block_s: float = Field(default=3600.0, gt=0)
    review_sign_in_forget_s: float = Field(default=86_400.0, gt=0)
    # the reverse proxies (addresses or networks) whose X-Forwarded-For names the client;
    # none: the connecting address is the client, whatever a request's headers say
    review_trusted_proxies: list[str] = Field(default_factory=list)

    # chaos knobs of the demo back office (`rekey backoffice`; samples/backoffice/chaos.py)
    chaos_seed: int = 0
    chaos_latency_ms: int = 0
    chaos_slow_share: float = 0.0
    chaos_slow_ms: int = 0
    chaos_500: float = 0.0
    chaos_session_ttl_s: float | None = None
    chaos_shuffle: bool = False
    chaos_commit_then_500: float = 0.0

    @field_validator("review_trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, entries: list[str]) -> list[str]:
        return [proxy_address(entry) for entry in entries]

    @model_validator(mode="after")
    def _block_order(self) -> Settings:
        if self.review_sign_in_max_block_s < self.review_sign_in_first_block_s:
            raise ValueError(
                f"REKEY_REVIEW_SIGN_IN_MAX_BLOCK_S ({self.review_sign_in_max_block_s:g}) is "
                f"shorter than REKEY_REVIEW_SIGN_IN_FIRST_BLOCK_S "
                f"({self.review_sign_in_first_block_s:g}): raise the first or lower the second"
            )
        return self

    @cached_property
    def data_path(self) -> Path:
        return self.data_dir.resolve()

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_path / 'rekey.db'}"

    @property
    def batch_inbox_path(self) -> Path:
        return (self.batch_inbox or self.data_path / "inbox").resolve()

    @property
    def cases_dir(self) -> Path:
        return self.data_path / "cases"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_path / "quarantine"

    @property
    def review_dir(self) -> Path:
        return self.data_path / "review"

    @property
    def prefect_home(self) -> Path:
        return self.data_path / "prefect"

    @property
    def audit_key_path(self) -> Path:
        return (self.audit_key_file or self.data_path / "keys" / "audit.key").resolve()

    @property
    def audit_checkpoints_path(self) -> Path:
        return (self.audit_checkpoints or self.data_path / "audit" / "checkpoints.jsonl").resolve()


def proxy_address(entry: str) -> str:
    """A trusted proxy's address (``10.0.0.5``, ``::1``) or network (``10.0.0.0/24``) in
    its normal spelling; ValueError naming the setting for anything else."""
    text = entry.strip()
    try:
        if "/" in text:
            return str(ipaddress.ip_network(text, strict=False))
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError(
            f"REKEY_REVIEW_TRUSTED_PROXIES: {entry!r} is no IP address or network; give the "
            'proxies\' addresses as a JSON list, e.g. ["10.0.0.5", "10.1.0.0/24"]'
        ) from None


# REKEY_* names read by something other than the settings
OTHER_NAMES = frozenset(
    {
        "REKEY_HOME",  # prefect.yaml's placeholders (flows.deployments)
        "REKEY_NEW_USER_PASSWORD",  # `rekey users add`
        "REKEY_FORMS_DIR",  # the corpus generator's blank forms (samples.corpus.irs)
        "REKEY_SPA_USER",  # the single-page demo back office (samples.spa)
        "REKEY_SPA_PASSWORD",
        "REKEY_TEST_POSTGRES_URL",  # the tests' PostgreSQL (tests.conftest_postgres)
        "REKEY_TEST_POSTGRES_BIN",
        "REKEY_TEST_POSTGRES_DIR",
    }
)


def unknown_names(environ: Mapping[str, str] | None = None) -> list[tuple[str, str | None]]:
    """Each ``REKEY_*`` variable that is no setting, with the closest setting's name (or
    ``None`` when nothing is close): ``REKEY_TEMPLATE_DIR`` → ``REKEY_TEMPLATES_DIR``."""
    from rapidfuzz import process

    environ = os.environ if environ is None else environ
    known = [f"REKEY_{name.upper()}" for name in Settings.model_fields]
    found = []
    for name in sorted(environ):
        if not name.upper().startswith("REKEY_") or name.upper() in OTHER_NAMES:
            continue
        if name.upper() in known:
            continue
        match = process.extractOne(name.upper(), known, score_cutoff=80)
        found.append((name, match[0] if match else None))
    return found
