"""YAML + dotted overrides → a validated :class:`RunConfig`, with one-line errors."""
from __future__ import annotations

import copy
import reprlib
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import ValidationError

from ..errors import ConfigError
from ..safe_yaml import load_yaml_bounded
from .schema import PretrainTransferConfig, RunConfig


def load_config(path: str | Path | None = None, overrides: Iterable[str] = (), data: dict | None = None,
                dataset: str | None = None) -> RunConfig:
    """Read ``path`` (YAML), apply ``key.sub=value`` overrides, validate. Raises :class:`ConfigError`.

    ``dataset`` names a built-in benchmark dataset as the label space (replacing the config's own class list) and,
    unless the config says otherwise, as the test set."""
    if data is None:
        if path is None:
            raise ConfigError("no config given", "pass a YAML config file")
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {str(path)!r} does not exist", "check the path")
        try:
            data = load_yaml_bounded(path.read_bytes().decode("utf-8")) or {}
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start} cannot be decoded)",
                              "save the config as UTF-8") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise ConfigError(f"{path} is not valid YAML{where}", "fix the YAML syntax") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path} does not hold a mapping", "write the config as `key: value` sections")
    data = copy.deepcopy(data)
    if dataset is not None:
        labels = data.get("labels") if isinstance(data.get("labels"), dict) else {}
        data["labels"] = {"dataset": dataset, **({"domain": labels["domain"]} if labels.get("domain") else {})}
    data = apply_overrides(data, overrides)
    return validate_config(data, source=str(path) if path else "config")


_BOUNDED_REPR = reprlib.Repr()
_BOUNDED_REPR.maxlevel, _BOUNDED_REPR.maxlist, _BOUNDED_REPR.maxstring, _BOUNDED_REPR.maxother = 2, 4, 60, 60


def validate_config(data: dict, source: str = "config") -> RunConfig:
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(*_explain(exc, source)) from None


def _explain(exc: ValidationError, source: str) -> tuple[str, str]:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = loc.rsplit(".", 1)[0] if "." in loc else None
        fields = _fields_at(parent)
        return (f"{source}: unknown key {loc!r}",
                f"remove it or use one of: {', '.join(fields)}" if fields else "remove it")
    if kind == "missing":
        return f"{source}: {loc} is required", f"add `{loc}` to the config"
    got = err.get("input")
    shown = _BOUNDED_REPR.repr(got) if not isinstance(got, dict) else "a mapping"  # never format unbounded input
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{source}: {loc} = {shown} is invalid ({err['msg']})", f"fix {loc}"


def _fields_at(dotted: str | None) -> list[str]:
    model: Any = RunConfig
    if dotted:
        for part in dotted.split("."):
            field = model.model_fields.get(part)
            if field is None:
                return []
            ann = field.annotation
            inner = [a for a in getattr(ann, "__args__", ()) if hasattr(a, "model_fields")]
            model = inner[0] if inner else ann
            if not hasattr(model, "model_fields"):
                return []
    return sorted(model.model_fields)


def apply_overrides(data: dict, overrides: Iterable[str]) -> dict:
    """``train.lr=1e-3`` style overrides; values parse as YAML (so numbers, lists and booleans work)."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} has no '='", "write overrides as section.key=value")
        key, raw = item.split("=", 1)
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise ConfigError(f"override {item!r} has an empty key", "write overrides as section.key=value")
        try:
            value = load_yaml_bounded(raw)
        except yaml.YAMLError:
            value = raw
        node = data
        for p in parts[:-1]:
            if node.get(p) is None:
                node[p] = {}
            if not isinstance(node[p], dict):
                raise ConfigError(f"override {item!r}: {p} is not a section", "check the key path")
            node = node[p]
        node[parts[-1]] = value
    return data


def load_pretrain_transfer_config(path, overrides=()) -> PretrainTransferConfig:
    """YAML + ``section.key=value`` overrides, validated once; other top-level sections of a full run config
    (labels, generate, ...) are ignored here, so one file can drive both ``synthrec run`` and these commands."""
    from pathlib import Path


    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist", "check the path")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        raise ConfigError(f"{path} is not valid YAML", "fix the YAML syntax") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} does not hold a mapping", "write the config as `key: value` sections")
    data = apply_overrides(data, overrides)
    data = {k: v for k, v in data.items() if k in PretrainTransferConfig.model_fields}
    try:
        return PretrainTransferConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"{path}: unknown key {where!r}", "remove it (see docs/pretrain.md)") from None
        if err["type"] == "missing":
            raise ConfigError(f"{path}: {where} is required", f"add `{where}` to the config") from None
        raise ConfigError(f"{path}: {where} is invalid ({err['msg']})", f"fix {where}") from None
