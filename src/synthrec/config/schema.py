"""The run configuration: one pydantic model per stage, ``extra="forbid"``, validated once at the edge.

A YAML file plus dotted CLI overrides (``--set train.lr=1e-3``) resolve to a :class:`RunConfig`; the resolved
config is stored in the run folder and alone reproduces the run.
"""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import (BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, field_validator, model_serializer,
                      model_validator)

from ..labels import DEFAULT_TEMPLATE


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class LabelsConfig(_Section):
    """Where the class names come from: exactly one of dataset, names, file, image_folder."""

    dataset: Optional[str] = Field(None, description="a built-in dataset name, e.g. eurosat, cifar10, digits")
    names: Optional[list[str]] = Field(None, description="class names inline")
    file: Optional[str] = Field(None, description="text file (one class per line) or YAML/JSON with `classes`")
    image_folder: Optional[str] = Field(None, description="an ImageFolder; class names are its sorted sub-folders")
    domain: Optional[str] = Field(None, description='domain words, e.g. "a centered satellite photo of"')

    @model_validator(mode="after")
    def _one_source(self):
        given = [k for k in ("dataset", "names", "file", "image_folder") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of labels.dataset, labels.names, labels.file, labels.image_folder"
                             f" (got {', '.join(given) or 'none'})")
        return self


class LanguageEnhancementConfig(_Section):
    model: str = Field("mrm8488/t5-base-finetuned-common_gen", description="any Hugging Face seq2seq id or path")
    input_format: str = Field("{c}", description='what the model reads per class (the paper\'s EuroSAT run: "a {c}")')
    top_k: PositiveInt = 50
    max_draws: PositiveInt = Field(250, description="sentences drawn per class before de-duplication")
    max_new_tokens: PositiveInt = 32
    batch_size: PositiveInt = 50
    device: str = "auto"
    require_class_word: bool = Field(False, description="keep only sentences that name the class (the paper keeps "
                                     "every sentence); logs how many it drops per class")


class PromptsConfig(_Section):
    strategy: str = Field("basic", description="basic, templates, le, wordnet, or a registered strategy")
    template: str = Field(DEFAULT_TEMPLATE, description="basic: the prompt; {c} is the class name")
    template_set: Optional[str] = Field(None, description="templates: a named CLIP template set")
    per_class: Optional[PositiveInt] = Field(None, description="prompts per class; default: the strategy's own "
                                             "(LE: 200, as in the paper)")
    prefix: Optional[str] = Field(None, description='LE/WordNet: text put before each sentence ("" for none); '
                                  'default: labels.domain, else the dataset\'s own prefix (EuroSAT: "a centered '
                                  'satellite photo of"), else the paper\'s "a photo of a"')
    le: LanguageEnhancementConfig = LanguageEnhancementConfig()

    @field_validator("strategy")
    @classmethod
    def _known_strategy(cls, v: str) -> str:
        from ..prompts import STRATEGIES

        if v not in STRATEGIES:
            raise ValueError(f"unknown strategy; choose one of {', '.join(sorted(STRATEGIES))}")
        return v


class AdapterConfig(_Section):
    """A LoRA or textual-inversion adapter loaded into the generator with diffusers' own loaders."""

    kind: Literal["lora", "textual_inversion"] = "lora"
    path: str = Field(..., description="a .safetensors file, a folder, or a Hugging Face hub id")
    weight_name: Optional[str] = Field(None, description="the weights file inside a folder or hub repo")
    weight: float = Field(1.0, description="LoRA: its scale in set_adapters (several LoRAs mix by these weights)")
    name: Optional[str] = Field(None, description="LoRA: the adapter name; default adapter<i>")
    token: Optional[str] = Field(None, description='textual inversion: the token it adds, e.g. "<my-cat>"')


class GenerateConfig(_Section):
    generator: str = Field(..., description="a diffusers pipeline id or path, or `glyph` for the offline world")
    images_per_prompt: PositiveInt = 10
    steps: PositiveInt = 25
    guidance_scale: float = Field(3.0, ge=0)
    height: Optional[PositiveInt] = None
    width: Optional[PositiveInt] = None
    batch_size: PositiveInt = 8
    dtype: Literal["auto", "fp16", "bf16", "fp32"] = "auto"
    device: str = "auto"
    scheduler: Optional[str] = Field(None, description="a diffusers scheduler class name, e.g. DPMSolverMultistepScheduler")
    negative_prompt: Optional[str] = Field(None, description='e.g. "blurry, low quality, text, watermark"')
    adapters: list[AdapterConfig] = Field(default_factory=list, description="LoRA / textual-inversion weights")
    pipeline_kwargs: dict[str, Any] = Field(default_factory=dict, description="more arguments for the pipeline "
                                            "call, passed unchanged (e.g. guidance_rescale: 0.7, eta: 0.5)")
    shard_size: PositiveInt = Field(1000, description="images per shard")
    format: Literal["webdataset", "imagefolder"] = "webdataset"
    image_format: Literal["png", "jpg", "webp"] = "png"
    channels_last: bool = Field(False, description="channels_last memory format for the denoiser (CUDA speed)")
    compile: bool = Field(False, description="torch.compile the denoiser (CUDA speed; slow first batch)")
    executor: Literal["local", "ray"] = "local"
    num_workers: Optional[PositiveInt] = Field(None, description="local: default one per visible GPU, else 1")

    @model_serializer(mode="wrap")
    def _omit_unset_options(self, handler):
        # Left out when unset, so the generation key of a config that does not use them is what it was before
        # these options existed, and finished run folders stay valid.
        data = handler(self)
        for key in _OPTIONAL_GENERATION_OPTIONS:
            if key in data and not data[key]:
                del data[key]
        return data


_OPTIONAL_GENERATION_OPTIONS = ("negative_prompt", "adapters", "pipeline_kwargs")


class FilterConfig(_Section):
    enabled: bool = True
    encoder: Optional[str] = Field(None, description="open_clip:RN50/openai, hf:<id or path>, glyph; default: train's")
    template: Optional[str] = Field(None, description="prompt for the filter's text head; default: the label prompt")
    threshold: Optional[float] = Field(None, gt=0, lt=1, description="keep p(intended) above this; default 1/N")
    per_class_cap: Optional[PositiveInt] = Field(None, description="at most this many images per class (paper: 800)")
    fill_to_cap: bool = Field(False, description="top-k fallback below the threshold up to the cap (paper's code)")
    dedup: bool = True
    batch_size: PositiveInt = 256
    device: Optional[str] = Field(None, description="auto, cpu, cuda, cuda:<index>; default: train.device")
    precision: Literal["auto", "fp32", "fp16", "bf16"] = Field("auto", description="auto: fp16 on CUDA, fp32 on CPU")


class TrainConfig(_Section):
    encoder: str = Field("open_clip:RN50/openai", description="the frozen image-text encoder")
    templates: list[str] = Field(default_factory=lambda: [DEFAULT_TEMPLATE],
                                 description="prompt templates whose text embeddings initialise the head")
    epochs: PositiveInt = 30
    batch_size: PositiveInt = 512
    lr: float = Field(2e-3, gt=0)
    weight_decay: float = Field(0.1, ge=0)
    warmup_steps: int = Field(0, ge=0)
    sce_weight: float = Field(0.5, ge=0, le=1, description="λ in λ·SCE + (1−λ)·CE; 0 = plain CE")
    temperature: float = Field(2.0, gt=0)
    grad_clip: Optional[float] = Field(1.0, gt=0)
    device: str = "auto"
    precision: Literal["auto", "fp32", "fp16", "bf16"] = Field("auto", description="auto: fp16 on CUDA, fp32 on CPU")
    feature_batch_size: PositiveInt = 256
    cache_dir: Optional[str] = Field(None, description="feature cache folder; default <run_dir>/features")
    tune: Literal["head", "last_block", "image_encoder"] = Field(
        "head", description="what is tuned: the head on cached features (the paper's method), or also the image "
        "encoder's last block or all of it, on images (the paper's Table 3 ablation)")
    freeze_bn: bool = Field(True, description="tune beyond the head: BatchNorm layers keep their running statistics "
                            "(eval mode), as the authors' freeze_BN(); false = batch statistics (paper Table 6)")
    encoder_lr: Optional[float] = Field(None, gt=0, description="tune beyond the head: peak lr of the encoder's "
                                        "parameters; default train.lr (one AdamW group, as the authors' code)")

    @field_validator("templates")
    @classmethod
    def _templates_have_slot(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("give at least one template")
        bad = [t for t in v if "{c}" not in t]
        if bad:
            raise ValueError(f"template {bad[0]!r} has no {{c}} slot for the class name")
        return v


class EvaluateConfig(_Section):
    dataset: Optional[str] = Field(None, description="a built-in dataset name (default: labels.dataset)")
    image_folder: Optional[str] = Field(None, description="or an ImageFolder whose classes match the labels")
    root: Optional[str] = Field(None, description="where the dataset's files are")
    split: Optional[str] = None
    download: bool = False
    skip_corrupt: bool = False


class AdaptConfig(_Section):
    """Adapting the generator to the shots (strategies lora*, textual_inversion*): docs/fewshot.md."""

    lora_scope: Literal["dataset", "class"] = Field("dataset", description="one LoRA for all classes (DataDream's "
                                                    "dataset-level) or one per class")
    lora_rank: PositiveInt = 4
    lora_alpha: Optional[float] = Field(None, gt=0, description="default: the rank (scale 1)")
    lora_steps: PositiveInt = 200
    lora_lr: float = Field(1e-4, gt=0)
    lora_text_encoder: bool = Field(False, description="also LoRA on the text encoder (not for the glyph world's "
                                                       "frozen MiniLM)")
    ti_steps: PositiveInt = Field(200, description="textual-inversion steps per class token")
    ti_lr: float = Field(5e-3, gt=0)
    batch_size: PositiveInt = 8


class FewShotConfig(_Section):
    """The few-shot setting (METHOD.md §3): k real shots per class, Real Guidance, mix training."""

    dataset: Optional[str] = Field(None, description="real training set: a built-in dataset (digits: the pool split)")
    image_folder: Optional[str] = Field(None, description="or an ImageFolder of real training images")
    root: Optional[str] = None
    split: Optional[str] = Field(None, description="the split shots are drawn from (default: the dataset's few-shot "
                                                   "train split)")
    download: bool = False
    shots: list[PositiveInt] = Field(default_factory=lambda: [1, 2, 4, 8, 16])
    seeds: list[int] = Field(default_factory=lambda: [0], description="one k-shot draw per seed")
    strategies: list[Literal["none", "B", "RF", "RG", "lora", "lora_RG", "textual_inversion",
                             "textual_inversion_RG"]] = Field(
        default_factory=lambda: ["none", "RG"], description="none = real shots only (CT w. init); B = text-to-image "
        "synthetic data (fewshot.b_prompts, b_filter); RF = B after Real Filtering; RG = Real Guidance; lora / "
        "textual_inversion = the generator adapted to the shots (DataDream / DA-Fusion), text-to-image; *_RG = "
        "the adapted generator with Real Guidance")
    baselines: list[Literal["phase_syn_real", "phase_real_syn"]] = Field(default_factory=list)
    images_per_class: PositiveInt = Field(800, description="synthetic images per class, split across the shots")
    t_star: dict[int, PositiveInt] = Field(default_factory=lambda: {16: 15, 8: 20, 4: 35, 2: 40, 1: 50},
                                           description="RG noise step t* of the paper's 100-step chain, by shots")
    b_prompts: Literal["le", "basic"] = Field("le", description="B's prompts: Language Enhancement (the paper's "
                                              "few-shot B is LE + CF) or the run's basic prompt")
    b_filter: bool = Field(True, description="CLIP-filter B's images (keep p(intended) > filter.threshold, default "
                           "1/N) with the run's zero-shot head")
    rg_template: Optional[str] = Field(None, description="RG prompt; default: the run's basic prompt (the "
                                       "dataset's own, e.g. EuroSAT's 'a centered satellite photo of {c}.')")
    real_batch_size: PositiveInt = 32
    syn_batch_size: PositiveInt = 512
    lr: float = Field(1e-3, gt=0)
    phase_lr: float = Field(2e-3, gt=0)
    epochs: PositiveInt = 30
    weight_decay: float = Field(0.1, ge=0)
    sce_weight: float = Field(0.5, ge=0, le=1)
    temperature: float = Field(2.0, gt=0)
    skip_corrupt: bool = False
    adapt: AdaptConfig = AdaptConfig()


# ---------------------------------------------------------------- the pre-training setting (METHOD.md §4)

class ExtraClassesConfig(_Section):
    """Further classes drawn at random from a larger list (the paper's IN-2K = IN-1K + 1K of ImageNet-21K)."""

    file: str = Field(..., description="a class list (one per line, or YAML/JSON `classes`) to draw from")
    count: PositiveInt = Field(..., description="how many to draw; names already in the label space are skipped")
    seed: int = Field(0, ge=0, description="the draw's seed, recorded in set.json")

class SetConfig(_Section):
    """A synthetic pre-training set: a label space, a size in images, LE prompts, the sharded generator."""

    labels: LabelsConfig
    extra_classes: Optional[ExtraClassesConfig] = None
    images: PositiveInt = Field(..., description="the set's size in images (rounded up to whole prompts)")
    chunk_images: Optional[PositiveInt] = Field(
        None, description="make the set in chunks of this many images, each its own resumable generator run; "
        "a larger size later reuses the chunks already made (1x, 2x, 4x share one folder)")
    prompts: PromptsConfig = PromptsConfig(strategy="le")
    generate: GenerateConfig
    folder: Optional[str] = Field(None, description="where the set lives (default <run_dir>/pretrain/set); "
                                  "share one folder between runs to generate once")

class PretrainConfig(_Section):
    set: Optional[SetConfig] = Field(None, description="make this synthetic set, then pre-train on it")
    data: Optional[str] = Field(None, description="or pre-train on an existing set folder (set.json + shards); "
                                "neither, in a full run: the run's own generated images")
    method: Literal["supervised", "mocov2"] = "supervised"
    model: str = Field("resnet50", description="any timm.create_model name (paper: resnet50, deit_small_patch16_224)")
    model_kwargs: dict[str, Any] = Field(default_factory=dict, description="passed to timm.create_model")
    image_size: PositiveInt = 224
    preset: Optional[str] = Field(None, description="aware, agnostic, deit or mocov2 (default: agnostic for "
                                  "supervised, mocov2 for MoCo)")
    recipe: dict[str, Any] = Field(default_factory=dict, description="overrides of the preset, e.g. {epochs: 10}")
    init: Optional[str] = Field(None, description="start from these weights: a synthrec checkpoint or a timm "
                                "safetensors state dict (the paper's IN-1K init)")
    num_workers: NonNegativeInt = 4
    shuffle_buffer: NonNegativeInt = Field(5000, description="samples held for shuffling across shards")
    device: str = "auto"
    precision: Literal["auto", "fp32", "fp16", "bf16"] = Field("auto", description="auto: fp16 AMP on CUDA")
    checkpoint_every: PositiveInt = Field(1, description="epochs between checkpoints")

    @model_validator(mode="after")
    def _one_source(self):
        if self.set is not None and self.data is not None:
            raise ValueError("give one of pretrain.set (make a synthetic set) and pretrain.data (an existing set "
                             "folder), not both")
        return self

    def preset_name(self) -> str:
        return self.preset or ("mocov2" if self.method == "mocov2" else "agnostic")

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


class ReportConfig(_Section):
    samples_per_class: PositiveInt = 8
    title: Optional[str] = None


class RunConfig(_Section):
    run_dir: str = Field(..., description="the run folder; every stage writes below it")
    seed: int = Field(0, ge=0)
    labels: LabelsConfig
    prompts: PromptsConfig = PromptsConfig()
    generate: GenerateConfig
    filter: FilterConfig = FilterConfig()
    train: TrainConfig = TrainConfig()
    evaluate: Optional[EvaluateConfig] = None
    fewshot: Optional[FewShotConfig] = None
    pretrain: Optional[PretrainConfig] = None
    transfer: Optional[TransferConfig] = None
    report: ReportConfig = ReportConfig()


class PretrainTransferConfig(_Section):
    """What ``synthrec pretrain CONFIG`` and ``synthrec transfer CONFIG`` read: a run folder, a seed, and the
    ``pretrain`` and/or ``transfer`` sections (the same sections a full run config may carry)."""

    run_dir: str = Field(..., description="the run folder; pretrain/ and transfer/ go below it")
    seed: int = Field(0, ge=0)
    pretrain: Optional[PretrainConfig] = None
    transfer: Optional[TransferConfig] = None
