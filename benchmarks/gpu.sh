#!/usr/bin/env bash
# Every benchmark at full size on a GPU, lines written to benchmarks/results/<card>.txt for the README to quote.
#
# Full size means the real architectures built from configs with random weights (speed does not depend on the
# weights, and no model hub is needed): Stable Diffusion 1.5 at 512 px, 50 steps, batch 16 against the naive
# one-prompt fp32 loop and plain diffusers; head tuning at 1,000 classes x 800 features x 1024 dims; the local
# executor with one worker per visible GPU (at least 2) against one worker. About 10 minutes on one H100-class GPU.
#
#     bash benchmarks/gpu.sh            # needs a CUDA GPU and the dev install (bash scripts/setup.sh --dev)
set -euo pipefail
cd "$(dirname "$0")/.."
card=$(.venv/bin/python -c "import torch; assert torch.cuda.is_available(), 'no CUDA GPU visible'; \
print(torch.cuda.get_device_name(0))")
mkdir -p benchmarks/results
out="benchmarks/results/$(echo "$card" | tr -c 'A-Za-z0-9._-' '_' | sed 's/_*$//').txt"
lines=$(mktemp)
.venv/bin/python benchmarks/run.py --out "$lines"
{ echo "# $card, $(nproc) CPU cores, $(date -u +%Y-%m-%d): python benchmarks/run.py (full size)"; cat "$lines"; } > "$out"
rm -f "$lines"
echo "wrote $out"
