#!/usr/bin/env python
"""Seconds per training iteration of the short budget's light generator and the CPU recipe's full one, side by side,
and what they make of each preset's iteration count.

The rows build the run `ugatit_nb_train --preset short|cpu` builds (64 px, ch 16, `FastUGATIT`), and the CPU recipe
with two residual blocks a side for 4000 iterations (what it was before the paper's four), run 20 warm-up
iterations, then time --iters more with the same callbacks a run has minus the sample grids, the evaluations and the
checkpoints. The projection is iterations × the median: the training alone, without the evaluations, grids and
checkpoints the run adds (the README gives the whole run's time). Usage:

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
    print(f"{'preset':32s}{'generator':>10s}{'median s/it':>13s}{'min':>8s}{'max':>8s}{'iterations':>12s}{'training min':>14s}")
    rows = {}
    two_blocks = lambda **kw: cpu_config(**{'n_res': 2, 'iteration': 4000, **kw})
    for name, preset in (('short (ablations, comparison)', short_config), ('cpu, 2 residual blocks (before)', two_blocks),
                         ('cpu (the first run)', cpu_config)):
        c, times = preset(), seconds_per_iteration(preset, a.iters)
        med = rows[name] = statistics.median(times)
        print(f"{name:32s}{('light' if c.light else 'full') + f', {c.n_res}':>10s}{med:13.3f}{min(times):8.3f}{max(times):8.3f}"
              f"{c.iteration:12d}{c.iteration * med / 60:14.1f}")
    full, light = rows['cpu (the first run)'], rows['short (ablations, comparison)']
    two = rows['cpu, 2 residual blocks (before)']
    print(f'\nthe full generator\'s iteration costs {full / light:.2f}× the light one\'s; four residual blocks a side cost '
          f'{full / two:.2f}× two')

if __name__ == '__main__':
    main()
