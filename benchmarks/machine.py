"""The machine and the versions a run was measured with."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

import psutil

from rekey.settings import PROJECT_ROOT, Settings


def _first_line(args: list[str], cwd: Path | None = None) -> str | None:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=30, cwd=cwd)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0].strip() if done.returncode == 0 and text else None


def cpu_model(cpuinfo: str) -> str | None:
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "Hardware"):
            return value.strip()
    return None


def os_name() -> str:
    release = Path("/etc/os-release")
    if release.is_file():
        for line in release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    return platform.platform()


def machine() -> dict[str, object]:
    cpuinfo = Path("/proc/cpuinfo")
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": cpu_model(cpuinfo.read_text()) if cpuinfo.is_file() else platform.processor(),
        "memory_mb": round(psutil.virtual_memory().total / 2**20),
        "os": os_name(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def git_commit() -> dict[str, object]:
    commit = _first_line(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
    )
    return {"commit": commit, "dirty": bool(status.stdout.strip()) if commit else None}


def versions(settings: Settings) -> dict[str, object]:
    return {
        "tesseract": _first_line(["tesseract", "--version"]),
        "chromium": _first_line([str(settings.chromium_path), "--version"]),
        **{
            name: package_version(name)
            for name in ("rekey", "prefect", "pdfplumber", "playwright", "pytesseract")
        },
        "invoice2data": package_version("invoice2data"),
        "git": git_commit(),
    }
