from .load import apply_overrides, load_config, load_pretrain_transfer_config
from .schema import (EvaluateConfig, ExtraClassesConfig, FewShotConfig, FilterConfig, GenerateConfig, LabelsConfig,
                     LanguageEnhancementConfig, PretrainConfig, PretrainTransferConfig, PromptsConfig, ReportConfig,
                     RunConfig, SetConfig, TrainConfig, TransferConfig)

__all__ = ["load_config", "load_pretrain_transfer_config", "apply_overrides", "RunConfig", "LabelsConfig",
           "PromptsConfig", "LanguageEnhancementConfig", "GenerateConfig", "FilterConfig", "TrainConfig",
           "EvaluateConfig", "FewShotConfig", "ReportConfig", "ExtraClassesConfig", "SetConfig", "PretrainConfig",
           "TransferConfig", "PretrainTransferConfig"]
