#!/usr/bin/env python
"""Seconds per training iteration of the short budget's light generator and the CPU recipe's full one, side by side,
with the images each second trains on and what they make of each preset's iteration count.

The rows build the run `ugatit_nb_train --preset short|cpu` builds (64 px, ch 16, `FastUGATIT`; the cpu preset in NHWC
with fused Adam and bf16 autocast, the speed options of `08b_fast` a CPU can use), the CPU recipe as it was before its
last two levers (in fp32 for 3600 iterations; before that with two residual blocks a side for 4000), and a lever
`09a_recipe` tried and did not take: four images a step for 2400 iterations, in fp32. Each runs 20 warm-up iterations,
then times --iters more with the same
callbacks a run has minus the sample grids, the evaluations and the checkpoints. The projection is iterations × the
median: the training alone, without the evaluations, grids and checkpoints the run adds (the README gives the whole
run's time). Usage:

    python benchmarks/recipe_time.py --iters 100               # torch's thread count (the cores)
    python benchmarks/recipe_time.py --iters 100 --threads 1
    ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/recipe_time.py --iters 60            # oneDNN's path on a CPU without
    ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/recipe_time.py --iters 60 --amp off  # bf16 instructions, and the fp32
                                                                                    # the cpu preset keeps there
"""
import argparse, statistics, tempfile, time
import torch

def seconds_per_iteration(preset, iters: int) -> list[float]:
    from ugatit_nb.callbacks import Callback, LinearDecayLR
    from ugatit_nb.methods import trainer_for
    class Clock(Callback):
        def __init__(self): self.times = []
        def before_step(self, t): self.t0 = time.perf_counter()
        def after_step(self, t, losses): self.times.append(time.perf_counter() - self.t0)
    clock = Clock()
    with tempfile.TemporaryDirectory() as d:
        trainer_for(preset(iteration=iters + 20, device='cpu', seed=0, result_dir=d)).fit(callbacks=[LinearDecayLR(), clock])
    return clock.times[20:]

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--iters', type=int, default=100)
    p.add_argument('--threads', type=int, default=0, help='torch threads (0: torch\'s default, the cores)')
    p.add_argument('--amp', choices=('bf16', 'off'), help="the first run's precision (default: the cpu preset's choice here)")
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from ugatit_nb.config import FP32_RECIPE, cpu_config, short_config
    print(f'{torch.get_num_threads()} thread(s), {a.iters} timed iterations after 20 warm-up\n')
    print(f"{'preset':46s}{'generator':>10s}{'batch':>7s}{'median s/it':>13s}{'min':>8s}{'max':>8s}{'images/s':>10s}"
          f"{'iterations':>12s}{'training min':>14s}")
    rows = {}
    first = lambda **kw: cpu_config(**({'amp': a.amp} if a.amp else {}), **kw)
    prec = 'bf16' if first().amp == 'bf16' else 'fp32'
    FIRST = f"cpu (the first run: NHWC, fused Adam, {prec})"
    fp32 = lambda **kw: cpu_config(**{**FP32_RECIPE, **kw})
    two_blocks = lambda **kw: fp32(**{'n_res': 2, 'iteration': 4000, **kw})
    batch_four = lambda **kw: fp32(**{'batch_size': 4, 'iteration': 2400, **kw})
    for name, preset in (('short (ablations, comparison)', short_config), ('cpu, 2 residual blocks (before)', two_blocks),
                         ('cpu in fp32 (before)', fp32), ('cpu, 4 images a step (not taken)', batch_four),
                         (FIRST, first)):
        c, times = preset(), seconds_per_iteration(preset, a.iters)
        med = statistics.median(times)
        rows[name] = med, c.batch_size / med
        print(f"{name:46s}{('light' if c.light else 'full') + f', {c.n_res}':>10s}{c.batch_size:7d}{med:13.3f}{min(times):8.3f}"
              f"{max(times):8.3f}{c.batch_size / med:10.1f}{c.iteration:12d}{c.iteration * med / 60:14.1f}")
    (full, full_ips), (light, _) = rows['cpu in fp32 (before)'], rows['short (ablations, comparison)']
    (two, _), (four, four_ips) = rows['cpu, 2 residual blocks (before)'], rows['cpu, 4 images a step (not taken)']
    speed, _ = rows[FIRST]
    print(f'\nin fp32, four residual blocks a side cost {full / two:.2f}× two; four images a step cost {four / full:.2f}× two '
          f'and train on {four_ips / full_ips:.2f}× as many images a second; NHWC, fused Adam and {prec} make an iteration '
          f'{full / speed:.2f}× faster, so the first run\'s {first().iteration} iterations take '
          f'{first().iteration * speed / (fp32().iteration * full):.2f}× the fp32 recipe\'s {fp32().iteration}; '
          f'its iteration costs {speed / light:.2f}× the short one\'s')

if __name__ == '__main__':
    main()
