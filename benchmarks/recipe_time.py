#!/usr/bin/env python
"""Seconds per training iteration of the short budget's light generator and the CPU recipe's full one, side by side,
with the images each second trains on and what they make of each preset's iteration count.

The rows build the run `ugatit_nb_train --preset short|cpu` builds (64 px, ch 16, `FastUGATIT`), and the CPU recipe
as it was before its last two levers: two residual blocks a side, two images a step, 4000 iterations; then four
blocks, two images a step, 3600 iterations. Each runs 20 warm-up iterations, then times --iters more with the same
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
    print(f"{'preset':34s}{'generator':>10s}{'batch':>7s}{'median s/it':>13s}{'min':>8s}{'max':>8s}{'images/s':>10s}"
          f"{'iterations':>12s}{'training min':>14s}")
    rows = {}
    two_blocks = lambda **kw: cpu_config(**{'n_res': 2, 'batch_size': 2, 'iteration': 4000, **kw})
    batch_two = lambda **kw: cpu_config(**{'batch_size': 2, 'iteration': 3600, **kw})
    for name, preset in (('short (ablations, comparison)', short_config), ('cpu, 2 blocks, batch 2 (before)', two_blocks),
                         ('cpu, 4 blocks, batch 2 (before)', batch_two), ('cpu (the first run)', cpu_config)):
        c, times = preset(), seconds_per_iteration(preset, a.iters)
        med = statistics.median(times)
        rows[name] = med, c.batch_size / med
        print(f"{name:34s}{('light' if c.light else 'full') + f', {c.n_res}':>10s}{c.batch_size:7d}{med:13.3f}{min(times):8.3f}"
              f"{max(times):8.3f}{c.batch_size / med:10.1f}{c.iteration:12d}{c.iteration * med / 60:14.1f}")
    (full, full_ips), (light, _) = rows['cpu (the first run)'], rows['short (ablations, comparison)']
    (two, _), (b2, b2_ips) = rows['cpu, 2 blocks, batch 2 (before)'], rows['cpu, 4 blocks, batch 2 (before)']
    print(f'\nfour residual blocks a side cost {b2 / two:.2f}× two; four images a step cost {full / b2:.2f}× two images '
          f'and train on {full_ips / b2_ips:.2f}× as many images a second; the first run\'s iteration costs {full / light:.2f}× '
          f'the short one\'s')

if __name__ == '__main__':
    main()
