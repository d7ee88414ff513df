"""The few-shot setting (METHOD.md §3): k real shots per class, Real Guidance, Real Filtering, mix training.

``run_fewshot(cfg, run_dir)`` runs a config's ``fewshot`` section end to end (``synthrec run`` calls it); the pieces
below it work on tensors and can be used alone. Its report is written by ``synthrec.report.fewshot``.
"""
from .guidance import glide_alpha_bar, rg_steps, rg_strength, split_evenly, start_timestep, strength_table
from .mix import Features, TuneResult, phase_wise, tune
from .real_filter import RealFilterResult, real_filter
from .run import run_fewshot
from .sampling import class_orders, draw_decodable, sample_shots, write_shots

__all__ = ["Features", "RealFilterResult", "TuneResult", "class_orders", "draw_decodable",
           "glide_alpha_bar", "phase_wise", "real_filter", "rg_steps", "rg_strength", "run_fewshot", "sample_shots",
           "split_evenly", "start_timestep", "strength_table", "tune", "write_shots"]
