"""Generation throughput: synthrec's batched generator against a naive loop and plain diffusers, in one run.

Measures images/s for
  (a) naive     a one-prompt-at-a-time loop over a pipeline loaded as a newcomer would (default dtype: fp32),
  (b) synthrec  ``create_generator(...).text_to_image`` in batches of N (fp16 on CUDA, SDPA, one seeded
                torch.Generator per image; optionally channels_last / torch.compile),
  (c) diffusers plain ``pipe(prompt=[...] * N)`` at the same dtype and batch size: the best reachable reference,
  (d) generate  synthrec's whole ``generate()`` (the same generator plus PNG encoding, tar and manifest writing),
and prints the ratios (targets, DESIGN.md §5: b/a >= 3, b/c >= 0.9 on one GPU). Not a test: never time it in CI.

    python benchmarks/generate_throughput.py                       # CPU: tiny random SD, 64 px
    python benchmarks/generate_throughput.py --model stable-diffusion-v1-5/stable-diffusion-v1-5 \\
        --steps 50 --size 512 --batch-size 16 --n-images 64        # GPU, real weights
    python benchmarks/generate_throughput.py --model random-sd15 --steps 50 --size 512 --batch-size 16
                                                                   # GPU, offline: SD 1.5's shape, random weights
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def build_random_sd15(out_dir: str) -> str:
    """Stable Diffusion 1.5's architecture with random weights: the same FLOPs as the real model, no download."""
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from synthrec.testing.tokenizers import real_clip_tokenizer

    torch.manual_seed(0)
    unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768, attention_head_dim=8)
    vae = AutoencoderKL(block_out_channels=[128, 256, 512, 512], down_block_types=["DownEncoderBlock2D"] * 4,
                        up_block_types=["UpDecoderBlock2D"] * 4, latent_channels=4, layers_per_block=2,
                        sample_size=512)
    tok = real_clip_tokenizer()
    te = CLIPTextModel(CLIPTextConfig(vocab_size=len(tok), hidden_size=768, intermediate_size=3072,
                                      num_hidden_layers=12, num_attention_heads=12, max_position_embeddings=77,
                                      bos_token_id=49406, eos_token_id=49407, pad_token_id=49407))
    sched = PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True,
                          steps_offset=1)
    pipe = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=te, tokenizer=tok, scheduler=sched,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(out_dir)
    return out_dir


def _prompts(n: int) -> list[str]:
    classes = ["dog", "cat", "tench", "church", "parachute", "golf ball", "truck", "chain saw"]
    return [f"a photo of a {classes[i % len(classes)]}." for i in range(n)]


def _time_loop(device: str, n: int, step: int, fn) -> float:
    """Images/s of fn(start, count) over n images in calls of `step` images."""
    _sync(device)
    t0 = time.perf_counter()
    for start in range(0, n, step):
        fn(start, min(step, n - start))
    _sync(device)
    return n / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="tiny", help="hub id, local folder, `tiny` (random tiny SD) or `random-sd15`")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance-scale", type=float, default=7.5)
    ap.add_argument("--size", type=int, default=None, help="height = width in px (default: the model's own)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--n-images", type=int, default=32)
    ap.add_argument("--n-naive", type=int, default=None, help="images for the naive loop (default: --n-images)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="auto", choices=["auto", "fp16", "bf16", "fp32"])
    ap.add_argument("--naive-dtype", default="fp32", choices=["fp16", "bf16", "fp32"],
                    help="what the naive loop loads (from_pretrained's default is fp32)")
    ap.add_argument("--scheduler", default=None, help="e.g. DPMSolverMultistepScheduler (all three variants)")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--compile", nargs="?", const=True, default=False, help="torch.compile the denoiser [mode]")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--skip", default="", help="comma list of variants to skip: naive,diffusers,generate")
    ap.add_argument("--repeats", type=int, default=3, help="timed rounds per variant; the best is reported")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args(argv)

    import torch
    import diffusers
    from diffusers import DiffusionPipeline

    from synthrec.generate import create_generator
    from synthrec.generate.backends.diffusers import DTYPES, dtype_kwarg, resolve_device, resolve_dtype, swap_scheduler

    if args.threads:
        torch.set_num_threads(args.threads)
    diffusers.utils.logging.set_verbosity_error()
    skip = set(filter(None, args.skip.split(",")))
    device = resolve_device(args.device)
    dtype = resolve_dtype(args.dtype, device)
    tmp = tempfile.mkdtemp(prefix="synthrec-bench-")
    model = args.model
    if model == "tiny":
        from synthrec.testing.tiny_sd import build_tiny_sd

        model = build_tiny_sd(os.path.join(tmp, "tiny-sd"))
    elif model == "random-sd15":
        model = build_random_sd15(os.path.join(tmp, "random-sd15"))
    n, bs = args.n_images, args.batch_size
    n_naive = args.n_naive or n
    prompts = _prompts(max(n, n_naive))
    size_kw = {"height": args.size, "width": args.size} if args.size else {}
    common = dict(num_inference_steps=args.steps, guidance_scale=args.guidance_scale, **size_kw)
    device_name = (torch.cuda.get_device_name(0) if device.startswith("cuda")
                   else f"CPU ({torch.get_num_threads()} threads)")
    print(f"model={args.model} device={device_name} steps={args.steps} guidance={args.guidance_scale} "
          f"size={args.size or 'default'} batch={bs} images={n} dtype={dtype} torch={torch.__version__} "
          f"diffusers={diffusers.__version__}", flush=True)
    gen = create_generator(model, device=device, dtype=dtype, steps=args.steps, guidance_scale=args.guidance_scale,
                           height=args.size, width=args.size, scheduler=args.scheduler,
                           channels_last=args.channels_last, compile=args.compile)
    tuned = bool(args.channels_last or args.compile)

    def load(dt: str):
        # Share synthrec's pipeline where nothing differs, so the variants differ only in how they call it.
        if dt == dtype and not tuned:
            return gen.pipe
        pipe = DiffusionPipeline.from_pretrained(model, **dtype_kwarg(getattr(torch, DTYPES[dt]))).to(device)
        pipe.set_progress_bar_config(disable=True)
        if args.scheduler:
            swap_scheduler(pipe, args.scheduler)
        return pipe

    variants = {}
    if "naive" not in skip:
        naive_pipe = load(args.naive_dtype)
        variants["naive"] = (n_naive, 1, lambda s, k: naive_pipe(
            prompt=prompts[s], generator=torch.Generator(device).manual_seed(s), **common))
    if "diffusers" not in skip:
        plain_pipe = load(dtype)
        variants["diffusers"] = (n, bs, lambda s, k: plain_pipe(
            prompt=prompts[s:s + k], generator=torch.Generator(device).manual_seed(s), **common))
    variants["synthrec"] = (n, bs, lambda s, k: gen.text_to_image(prompts[s:s + k], list(range(s, s + k))))
    if "generate" not in skip:
        import pyarrow as pa

        from synthrec.config.schema import GenerateConfig
        from synthrec.generate import generate

        table = pa.table({"class_id": list(range(n)), "prompt_id": list(range(n)), "text": prompts[:n]})
        cfg = GenerateConfig(generator=model, images_per_prompt=1, steps=args.steps,
                             guidance_scale=args.guidance_scale, height=args.size, width=args.size, batch_size=bs,
                             dtype=dtype, device=device, scheduler=args.scheduler, shard_size=max(bs, n // 2))
        out_dir = os.path.join(tmp, "out")
        variants["generate"] = (n, n, lambda s, k: generate(table, cfg, out_dir, generator=gen, progress=False,
                                                            overwrite=True))

    for name, (_, step, fn) in variants.items():  # warm-up (and compilation) outside the clock
        if name != "generate":  # it reuses the synthrec generator, warm by then
            fn(0, min(step, bs))
    # Rounds alternate the variants, so a busy machine slows all of them alike; the best round counts.
    rounds: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.repeats):
        for name, (count, step, fn) in variants.items():
            rounds[name].append(_time_loop(device, count, step, fn))
    results = {k: max(v) for k, v in rounds.items()}
    labels = {"naive": f"(a) naive loop, {args.naive_dtype}, batch 1",
              "diffusers": f"(c) plain diffusers, {dtype}, batch {bs}",
              "synthrec": f"(b) synthrec generator, {dtype}, batch {bs}"
                          + (", channels_last" if args.channels_last else "") + (", compile" if args.compile else ""),
              "generate": "(d) synthrec generate() end to end (PNG, tar, manifest)"}
    for name in ("naive", "diffusers", "synthrec", "generate"):
        if name in results:
            spread = ", ".join(f"{x:.3f}" for x in rounds[name])
            print(f"  {labels[name]}: {results[name]:.3f} images/s (rounds: {spread})", flush=True)

    ratios = {}
    if "naive" in results:
        ratios["synthrec/naive"] = results["synthrec"] / results["naive"]
    if "diffusers" in results:
        ratios["synthrec/diffusers"] = results["synthrec"] / results["diffusers"]
        if "generate" in results:
            ratios["generate/diffusers"] = results["generate"] / results["diffusers"]
    for k, v in ratios.items():
        print(f"  {k}: {v:.2f}x")
    out = {"args": vars(args), "device": device_name, "dtype": dtype, "images_per_s": results, "rounds": rounds,
           "ratios": ratios}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
