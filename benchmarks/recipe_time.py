#!/usr/bin/env python
"""Seconds per training iteration of the short budget's light generator and the CPU recipe's full one, side by side,
with the images each second trains on and what they make of each preset's iteration count.

The rows build the run `ugatit_nb_train --preset short|cpu` builds (64 px, ch 16, `FastUGATIT`), the CPU recipe as it
was before its last lever (two residual blocks a side for 4000 iterations), and two levers `09a_recipe` tried and did
not take: four images a step for 2400 iterations, and the speed options of `08b_fast` a CPU can use (NHWC memory, fused
Adam, bf16 autocast) for 4400. Each runs 20 warm-up iterations, then times --iters more with the same
callbacks a run has minus the sample grids, the evaluations and the checkpoints. The projection is iterations × the
median: the training alone, without the evaluations, grids and checkpoints the run adds (the README gives the whole
run's time). Usage:

    python benchmarks/recipe_time.py --iters 100               # torch's thread count (the cores)
    python benchmarks/recipe_time.py --iters 100 --threads 1
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
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    from ugatit_nb.config import cpu_config, short_config
    print(f'{torch.get_num_threads()} thread(s), {a.iters} timed iterations after 20 warm-up\n')
    print(f"{'preset':42s}{'generator':>10s}{'batch':>7s}{'median s/it':>13s}{'min':>8s}{'max':>8s}{'images/s':>10s}"
          f"{'iterations':>12s}{'training min':>14s}")
    rows = {}
    two_blocks = lambda **kw: cpu_config(**{'n_res': 2, 'iteration': 4000, **kw})
    batch_four = lambda **kw: cpu_config(**{'batch_size': 4, 'iteration': 2400, **kw})
    fast = lambda **kw: cpu_config(**{'channels_last': True, 'adam': 'fused', 'amp': 'bf16', 'iteration': 4400, **kw})
    for name, preset in (('short (ablations, comparison)', short_config), ('cpu, 2 residual blocks (before)', two_blocks),
                         ('cpu (the first run)', cpu_config), ('cpu, 4 images a step (not taken)', batch_four),
                         ('cpu, NHWC, fused Adam, bf16 (not taken)', fast)):
        c, times = preset(), seconds_per_iteration(preset, a.iters)
        med = statistics.median(times)
        rows[name] = med, c.batch_size / med
        print(f"{name:42s}{('light' if c.light else 'full') + f', {c.n_res}':>10s}{c.batch_size:7d}{med:13.3f}{min(times):8.3f}"
              f"{max(times):8.3f}{c.batch_size / med:10.1f}{c.iteration:12d}{c.iteration * med / 60:14.1f}")
    (full, full_ips), (light, _) = rows['cpu (the first run)'], rows['short (ablations, comparison)']
    (two, _), (four, four_ips) = rows['cpu, 2 residual blocks (before)'], rows['cpu, 4 images a step (not taken)']
    speed, _ = rows['cpu, NHWC, fused Adam, bf16 (not taken)']
    print(f'\nfour residual blocks a side cost {full / two:.2f}× two; four images a step cost {four / full:.2f}× two and '
          f'train on {four_ips / full_ips:.2f}× as many images a second; the first run\'s iteration costs {full / light:.2f}× '
          f'the short one\'s; NHWC, fused Adam and bf16 make it {full / speed:.2f}× faster')

if __name__ == '__main__':
    main()
