#!/usr/bin/env python
"""Where an iteration of the CPU recipe spends its time: the operators' own CPU time by kind (convolutions, the
normalizations, element-wise arithmetic, copies, the optimizer, …), how many operator calls an iteration makes, and the
top operators, for the README's first run (`--preset cpu`) beside the recipe before its last lever (fp32, plain Adam,
NCHW) in the same process.

Each preset builds the run `ugatit_nb_train` builds (64 px, the full generator, `FastUGATIT`), trains --warmup
iterations, then records --iters more with `torch.profiler` (CPU activities only, no shapes or stacks). The figures are
per iteration: "wall" is the step's time under the profiler (it adds a little to each call), "operators' own CPU
seconds" the sum of every operator's self time on the thread that called it (an operator's intra-op threads work within
it; what the wall has beyond the sum is Python between the calls), "calls" every operator call the profiler saw, nested
ones included (a convolution is `conv2d` → `convolution` → `_convolution` → the kernel's call). Usage:

    python benchmarks/step_profile.py                 # torch's thread count (the cores), 10 iterations after 30
    python benchmarks/step_profile.py --threads 2 --iters 20 --top 15
"""
import argparse, tempfile, time
import torch

KINDS = (('convolution', ('conv', 'mkldnn_convolution')),        # forward and backward, plain and transposed
         ('normalization (IN, LN, AdaLIN)', ('norm', 'var', 'mean', 'rsqrt', 'sqrt')),
         ('optimizer (Adam)', ('adam', '_foreach', 'lerp', 'addcdiv', 'addcmul')),
         ('copies and layout', ('copy_', 'to_copy', 'contiguous', 'clone', 'empty', 'resize', 'as_strided', 'zero_', 'fill_')),
         ('element-wise arithmetic', ('add', 'mul', 'sub', 'div', 'neg', 'pow', 'exp', 'log', 'relu', 'leaky', 'tanh',
                                      'sigmoid', 'where', 'clamp', 'abs', 'sum', 'threshold', 'pad', 'reflection')))

def kind(name: str) -> str:
    "The kind an operator's time is counted under: the first of `KINDS` a part of its name matches, else 'other'."
    n = name.lower()
    return next((k for k, parts in KINDS if any(p in n for p in parts)), 'other')

def profile_steps(preset, warmup: int, iters: int):
    "`iters` iterations of `preset`'s run after `warmup`: their wall seconds and the profiler's averages over them."
    from torch.profiler import ProfilerActivity, profile
    from ugatit_nb.callbacks import Callback, LinearDecayLR
    from ugatit_nb.methods import trainer_for
    class Profiled(Callback):
        def __init__(self): self.prof, self.wall = profile(activities=[ProfilerActivity.CPU]), 0.
        def before_step(self, t):
            if t.step == warmup: self.prof.__enter__()
            self.t0 = time.perf_counter()
        def after_step(self, t, losses):                  # t.step: the iterations done, this one included
            if t.step > warmup: self.wall += time.perf_counter() - self.t0
            if t.step == warmup + iters: self.prof.__exit__(None, None, None)
    cb = Profiled()
    with tempfile.TemporaryDirectory() as d:
        trainer_for(preset(iteration=warmup + iters, device='cpu', seed=0, result_dir=d)).fit(callbacks=[LinearDecayLR(), cb])
    return cb.wall, cb.prof.key_averages()

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--iters', type=int, default=10, help='profiled iterations')
    p.add_argument('--warmup', type=int, default=30, help='iterations before the profiler starts')
    p.add_argument('--threads', type=int, default=0, help="torch threads (0: torch's default, the cores)")
    p.add_argument('--top', type=int, default=10, help='operators listed by their own time')
    a = p.parse_args()
    if a.iters < 1 or a.warmup < 0: p.error('--iters must be 1 or more and --warmup 0 or more')
    if a.threads: torch.set_num_threads(a.threads)
    from ugatit_nb.config import FP32_RECIPE, cpu_config
    prec = 'bf16' if cpu_config().amp == 'bf16' else 'fp32'
    presets = {f'cpu (the first run: NHWC, fused Adam, {prec})': cpu_config,
               'cpu in fp32 (before: NCHW, plain Adam)': lambda **kw: cpu_config(**{**FP32_RECIPE, **kw})}
    print(f'{torch.get_num_threads()} thread(s), {a.iters} profiled iterations after {a.warmup}\n')
    rows = {}
    for name, preset in presets.items():
        wall, avg = profile_steps(preset, a.warmup, a.iters)
        ops = [e for e in avg if not e.key.startswith(('ProfilerStep', '## '))]
        own = sum(e.self_cpu_time_total for e in ops) / 1e6 / a.iters            # seconds of operators' own time an iteration
        by_kind = {}
        for e in ops:
            k = kind(e.key)
            by_kind[k] = by_kind.get(k, 0.) + e.self_cpu_time_total / 1e6 / a.iters
        rows[name] = dict(wall=wall / a.iters, own=own, calls=sum(e.count for e in ops) / a.iters, kinds=by_kind,
                          top=sorted(ops, key=lambda e: -e.self_cpu_time_total)[:a.top])
    names = list(rows)
    col = lambda s: f'{s:>44s}'
    print(f"{'per iteration':36s}" + ''.join(col(n) for n in names))
    print(f"{'wall seconds (under the profiler)':36s}" + ''.join(col(f"{r['wall']:.3f}") for r in rows.values()))
    print("operators' own CPU seconds".ljust(36) + ''.join(col(f"{r['own']:.3f}") for r in rows.values()))
    print(f"{'operator calls':36s}" + ''.join(col(f"{r['calls']:,.0f}") for r in rows.values()))
    print(f"{'own time per call, µs':36s}" + ''.join(col(f"{1e6 * r['own'] / r['calls']:.1f}") for r in rows.values()))
    print("\nshare of the operators' own time, by kind")
    for k in [k for k, _ in KINDS] + ['other']:
        print(f'  {k:34s}' + ''.join(col(f"{100 * r['kinds'].get(k, 0.) / r['own']:.1f} %") for r in rows.values()))
    for n, r in rows.items():
        print(f'\n{n}: the {a.top} operators with the most own time an iteration')
        print(f"  {'operator':44s}{'calls':>8s}{'own ms':>10s}{'share':>8s}")
        for e in r['top']:
            t = e.self_cpu_time_total / 1e3 / a.iters
            print(f'  {e.key[:44]:44s}{e.count / a.iters:8.0f}{t:10.1f}{100 * t / 1e3 / r["own"]:7.1f}%')
    first, before = rows.values()
    print(f"\nthe first run's iteration makes {first['calls'] / before['calls']:.2f}× the calls of the fp32 one in "
          f"{first['wall'] / before['wall']:.2f}× its wall time; convolutions are "
          f"{100 * first['kinds'].get('convolution', 0.) / first['own']:.0f} % of its operators' own time "
          f"({100 * before['kinds'].get('convolution', 0.) / before['own']:.0f} % in fp32)")

if __name__ == '__main__':
    main()
