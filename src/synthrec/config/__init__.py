from .load import load_config, apply_overrides
from .schema import (EvaluateConfig, FewShotConfig, FilterConfig, GenerateConfig, LabelsConfig, LanguageEnhancementConfig,
                     PromptsConfig, ReportConfig, RunConfig, TrainConfig)

__all__ = ["load_config", "apply_overrides", "RunConfig", "LabelsConfig", "PromptsConfig",
           "LanguageEnhancementConfig", "GenerateConfig", "FilterConfig", "TrainConfig", "EvaluateConfig", "FewShotConfig",
           "ReportConfig"]
