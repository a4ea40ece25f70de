#!/usr/bin/env bash
# Everything that needs a GPU, in one run: the CUDA rows of the training-step benchmark (s/iter, peak allocated memory,
# GPU-busy fraction; each row in its own process) and the notebook cells flagged `cuda`. Run from the repository root:
#   bash benchmarks/gpu_check.sh [out_dir]
set -uo pipefail
out=${1:-build/gpu}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
python -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$out/gpu.txt"
# the light model at 128 px (is the GPU busy?) and the paper's full model at 256 px (s/iter and memory against the release)
python benchmarks/train_step.py --device cuda --sizes small --iters 20 2>&1 | tee "$out/train_step_small.txt"
python benchmarks/train_step.py --device cuda --sizes full --iters 10 --variants ugatit_nb "step in backward" \
  "fused Adam" "step in backward, fused Adam" bf16 "bf16, step in backward" compiled "compiled, reduce-overhead" "bf16, compiled" "release rebuild" \
  2>&1 | tee "$out/train_step_full.txt"
# the cuda-flagged checks (exactness on CUDA, CUDA graphs, the full model within 10 GiB)
(cd nbs && nbdev_test --path 08_train.ipynb --flags cuda) 2>&1 | tail -20 | tee "$out/nbdev_test_cuda.txt"
