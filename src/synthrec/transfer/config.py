"""The ``transfer`` config section: fine-tune backbones on a real classification dataset and compare inits."""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, field_validator, model_validator

from ..pretrain.config import PretrainConfig


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TransferConfig(_Section):
    model: Optional[str] = Field(None, description="timm name; default: the model of the first checkpoint")
    model_kwargs: Optional[dict[str, Any]] = Field(None, description="default: the first checkpoint's")
    image_size: Optional[PositiveInt] = Field(None, description="default: the first checkpoint's")
    inits: dict[str, Optional[str]] = Field(
        default_factory=lambda: {"scratch": None},
        description="name -> a synthrec checkpoint or timm safetensors weights; null = random init (scratch)")
    dataset: Optional[str] = Field(None, description="a built-in dataset, e.g. digits, cifar100")
    image_folder: Optional[str] = Field(None, description="or an ImageFolder of training images")
    test_image_folder: Optional[str] = None
    root: Optional[str] = None
    download: bool = False
    train_split: Optional[str] = Field(None, description="default: the dataset's train split (digits: pool)")
    test_split: Optional[str] = Field(None, description="default: the dataset's test split")
    fractions: list[float] = Field(default_factory=lambda: [1.0], description="train on these fractions of the "
                                   "training split (stratified, seeded)")
    seeds: list[NonNegativeInt] = Field(default_factory=lambda: [0])
    preset: str = "transfer"
    recipe: dict[str, Any] = Field(default_factory=dict, description="overrides of the preset")
    min_steps: NonNegativeInt = Field(0, description="at least this many optimizer steps (small fractions)")
    num_workers: NonNegativeInt = 4
    device: str = "auto"
    precision: Literal["auto", "fp32", "fp16", "bf16"] = "auto"

    @field_validator("fractions")
    @classmethod
    def _fractions_in_range(cls, v: list[float]) -> list[float]:
        bad = [f for f in v if not 0 < f <= 1]
        if bad or not v:
            raise ValueError("fractions must lie in (0, 1]")
        return v

    @model_validator(mode="after")
    def _data_source(self):
        if (self.dataset is None) == (self.image_folder is None):
            raise ValueError("give exactly one of transfer.dataset and transfer.image_folder")
        if self.image_folder is not None and self.test_image_folder is None:
            raise ValueError("transfer.image_folder needs transfer.test_image_folder")
        if not self.inits:
            raise ValueError("transfer.inits is empty; give at least `scratch: null`")
        return self


class PretrainTransferConfig(_Section):
    """What ``synthrec pretrain CONFIG`` and ``synthrec transfer CONFIG`` read: a run folder, a seed, and the
    ``pretrain`` and/or ``transfer`` sections (the same sections a full run config may carry)."""

    run_dir: str
    seed: int = Field(0, ge=0)
    pretrain: Optional[PretrainConfig] = None
    transfer: Optional[TransferConfig] = None


def load_pretrain_transfer_config(path, overrides=()) -> PretrainTransferConfig:
    """YAML + ``section.key=value`` overrides, validated once; other top-level sections of a full run config
    (labels, generate, ...) are ignored here, so one file can drive both ``synthrec run`` and these commands."""
    from pathlib import Path

    import yaml
    from pydantic import ValidationError

    from ..config.load import apply_overrides
    from ..errors import ConfigError

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
