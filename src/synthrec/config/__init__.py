from .load import load_config, apply_overrides
from .schema import (EvaluateConfig, FilterConfig, GenerateConfig, LabelsConfig, LanguageEnhancementConfig,
                     PromptsConfig, ReportConfig, RunConfig, TrainConfig)

__all__ = ["load_config", "apply_overrides", "RunConfig", "LabelsConfig", "PromptsConfig",
           "LanguageEnhancementConfig", "GenerateConfig", "FilterConfig", "TrainConfig", "EvaluateConfig",
           "ReportConfig"]
