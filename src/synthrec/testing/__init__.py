"""Builders of tiny, randomly initialised models for offline tests and benchmarks (never for real results)."""
