"""Every job the hub knows, by name. syncs/catalog.py registers the case study's nine when the app is ready; a
deployment (or a test) can register more, and `jobs_apply` gives each its row and default mappings."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import JobSpec

_SPECS: dict[str, "JobSpec"] = {}


def job_register(spec: "JobSpec") -> "JobSpec":
    _SPECS[spec.name] = spec
    return spec


def job_unregister(name: str) -> None:
    _SPECS.pop(name, None)


def job_spec(name: str) -> "JobSpec | None":
    return _SPECS.get(name)


def job_specs() -> list["JobSpec"]:
    """In dependency order (stage), then by name."""
    return sorted(_SPECS.values(), key=lambda spec: (spec.stage, spec.name))
