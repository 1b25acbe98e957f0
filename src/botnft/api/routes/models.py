"""Trained models (`/v1/models`): the model store `bot train` writes (`<runs>/models/ID/meta.json`), listed
and each one's report (its metadata: features, walk-forward folds, out-of-sample metrics)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request

from botnft.api.auth import require_scopes
from botnft.api.routes.common import AUTHED, AUTHED_404, Strict, blocking, not_found

MODEL_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"

router = APIRouter(prefix="/v1/models", tags=["models"], dependencies=[require_scopes("read")])


class ModelOut(Strict):
    id: str
    kind: str | None
    task: str | None
    data: str | None
    created: str | None
    metrics: dict[str, Any]


class ModelReport(Strict):
    id: str
    meta: dict[str, Any]


def models_root(request: Request) -> Path:
    settings = request.app.state.settings
    return Path(settings.key_dir().parent) / "models"


def _meta(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return _finite(meta) if isinstance(meta, dict) else None


def _finite(value: Any) -> Any:
    """JSON without NaN or infinities (a metric that could not be computed is null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _summary(model_id: str, meta: dict[str, Any]) -> ModelOut:
    metrics = meta.get("metrics")
    text = {k: meta.get(k) for k in ("kind", "task", "data", "created")}
    return ModelOut(
        id=model_id,
        **{k: None if v is None else str(v) for k, v in text.items()},
        metrics=metrics if isinstance(metrics, dict) else {},
    )


def _list(root: Path) -> list[ModelOut]:
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and re.fullmatch(MODEL_ID, folder.name):
            meta = _meta(folder)
            if meta is not None:
                out.append(_summary(folder.name, meta))
    return out


@router.get("", response_model=list[ModelOut], responses=AUTHED, summary="Models in the model store")
async def list_models(request: Request) -> list[ModelOut]:
    return await blocking(_list, models_root(request))


@router.get("/{model_id}", response_model=ModelReport, responses=AUTHED_404, summary="A model's report")
async def model_report(request: Request, model_id: str) -> ModelReport:
    if not re.fullmatch(MODEL_ID, model_id):
        raise not_found(f"model {model_id[:64]!r}")
    meta = await blocking(_meta, models_root(request) / model_id)
    if meta is None:
        raise not_found(f"model {model_id!r}")
    return ModelReport(id=model_id, meta=meta)
