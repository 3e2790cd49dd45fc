"""The deployments in ``prefect.yaml``, served by ``rekey serve``.

``prefect.yaml`` is the one place the deployments are declared: ``prefect deploy`` reads it
for an existing server's work pool; :func:`load_deployments` reads it for ``rekey serve``,
filling each ``{{ $REKEY_... }}`` from the environment or else from rekey's settings, and
validating the result (errors name the file and the key).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import yaml
from prefect import flow
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flows.process import process_folder
from rekey.config import validation_to_config_error
from rekey.errors import ConfigError
from rekey.pipeline import Outcome
from rekey.runtime import runtime_settings
from rekey.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

PREFECT_YAML = PROJECT_ROOT / "prefect.yaml"
PLACEHOLDER = re.compile(r"\{\{\s*\$([A-Z0-9_]+)\s*\}\}")


@flow(name="scheduled_batch", validate_parameters=False)
def scheduled_batch(folder: str | None = None) -> list[Outcome]:
    """Every file in *folder* (default: the ``batch_inbox`` setting)."""
    settings = runtime_settings()
    inbox = Path(folder) if folder else settings.batch_inbox_path
    inbox.mkdir(parents=True, exist_ok=True)
    return process_folder(inbox, settings)


@flow(name="watch_inbox", validate_parameters=False)
def watch_inbox(folder: str | None = None) -> None:
    """The watched folder as a service: runs until its process is stopped."""
    from flows.watch import watch_folder

    settings = runtime_settings()
    inbox = Path(folder) if folder else settings.watch_inbox
    if inbox is None:
        raise ConfigError("no folder to watch", key="REKEY_WATCH_INBOX")
    inbox.mkdir(parents=True, exist_ok=True)
    watch_folder(inbox, settings, report=log_settled)


def log_settled(name: str, went: Path | None, outcomes: list[Outcome]) -> None:
    states = ", ".join(o.state for o in outcomes) or "not processed"
    log.info("%s → %s: %s", name, went.name if went else "processing (to retry)", states)


class ScheduleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cron: str | None = None
    interval: float | None = Field(default=None, gt=0)  # seconds
    timezone: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ScheduleSpec:
        if (self.cron is None) == (self.interval is None):
            raise ValueError("give exactly one of cron or interval")
        return self


class DeploymentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    entrypoint: str  # path/to/file.py:flow_function, relative to the project
    description: str = ""
    tags: list[str] = []
    schedules: list[ScheduleSpec] = []
    parameters: dict[str, Any] = {}
    work_pool: dict[str, Any] | None = None  # used by `prefect deploy`, not by `rekey serve`

    @model_validator(mode="after")
    def _entrypoint_shape(self) -> DeploymentSpec:
        if ":" not in self.entrypoint:
            raise ValueError("entrypoint must be path/to/file.py:flow_function")
        return self


class ProjectSpec(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str
    deployments: list[DeploymentSpec]


def placeholder_values(settings: Settings) -> dict[str, str]:
    """What ``{{ $REKEY_X }}`` means when the environment does not say: setting ``x``."""
    values = {"REKEY_HOME": str(PROJECT_ROOT)}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is not None and not hasattr(value, "get_secret_value"):
            values[f"REKEY_{name.upper()}"] = str(value)
    return values


def fill_placeholders(text: str, values: dict[str, str], path: Path) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in os.environ:
            return os.environ[name]
        if name in values:
            return values[name]
        raise ConfigError(f"nothing gives {{{{ ${name} }}}}", file=path, key=name)

    return PLACEHOLDER.sub(one, text)


def load_deployments(settings: Settings, path: Path = PREFECT_YAML) -> list[DeploymentSpec]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the file ({exc.strerror})", file=path) from exc
    try:
        data = yaml.safe_load(fill_placeholders(text, placeholder_values(settings), path))
        return ProjectSpec.model_validate(data).deployments
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML ({exc})", file=path) from exc
    except ValidationError as exc:
        raise validation_to_config_error(path, exc) from exc


def runner_deployment(spec: DeploymentSpec, root: Path = PROJECT_ROOT):
    """The deployment ``rekey serve`` runs: the flow loaded from its entrypoint, scheduled."""
    from prefect.flows import load_flow_from_entrypoint
    from prefect.schedules import Cron, Interval

    file, function = spec.entrypoint.rsplit(":", 1)
    served = load_flow_from_entrypoint(f"{root / file}:{function}", use_placeholder_flow=False)
    schedules = [
        Cron(s.cron, timezone=s.timezone) if s.cron else Interval(s.interval, timezone=s.timezone)
        for s in spec.schedules
    ]
    return served.to_deployment(
        name=spec.name,
        description=spec.description or None,
        tags=spec.tags,
        schedules=schedules,
        parameters=spec.parameters,
    )


def services(specs: list[DeploymentSpec], settings: Settings) -> list[DeploymentSpec]:
    """The deployments without a schedule that ``rekey serve`` starts once: services that
    run until stopped (the watched folder, when ``REKEY_WATCH_INBOX`` names one)."""
    wanted = []
    for spec in specs:
        if spec.schedules:
            continue
        if spec.name == WATCH_DEPLOYMENT and settings.watch_inbox is None:
            continue
        wanted.append(spec)
    return wanted


WATCH_DEPLOYMENT = "watch-inbox"


def serve_deployments(settings: Settings, path: Path = PREFECT_YAML) -> None:
    """Serve every deployment in *path* until interrupted (needs a Prefect API), starting
    one run of each service first."""
    from prefect import serve
    from prefect.client.orchestration import get_client

    specs = load_deployments(settings, path)
    deployments = {spec.name: runner_deployment(spec) for spec in specs}
    started = services(specs, settings)
    with get_client(sync_client=True) as client:
        for spec in started:
            deployment_id = deployments[spec.name].apply()
            client.create_flow_run_from_deployment(deployment_id)
            log.info("started the service %s", spec.name)
    limit = max(1, settings.folder_workers) + len(started)
    serve(*deployments.values(), limit=limit, print_starting_message=False)
