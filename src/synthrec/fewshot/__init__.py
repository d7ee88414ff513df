"""The few-shot setting (METHOD.md §3): k real shots per class, Real Guidance, Real Filtering, mix training."""
from .guidance import glide_alpha_bar, rg_steps, rg_strength, split_evenly, start_timestep, strength_table
from .mix import Features, TuneResult, accuracy, phase_wise, tune
from .real_filter import RealFilterResult, real_filter
from .sampling import class_orders, draw_decodable, sample_shots, write_shots

__all__ = ["Features", "RealFilterResult", "TuneResult", "accuracy", "class_orders", "draw_decodable",
           "glide_alpha_bar", "phase_wise", "real_filter", "rg_steps", "rg_strength", "sample_shots",
           "split_evenly", "start_timestep", "strength_table", "tune", "write_shots"]
