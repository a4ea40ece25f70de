#!/usr/bin/env python
"""How long an AttentionInspector redraw takes on this machine, at 128 px: a new image or direction (the translating
generator's pass), a change of view (its own pass, on first visit), of opacity or colormap (recolouring only).

    python benchmarks/widget_redraw.py                 # light generator, ch 64, 128 px (the release's light model)
    python benchmarks/widget_redraw.py --ch 16
"""
import argparse, statistics, time
import torch
from ugatit_nb.data import embedded_dataset
from ugatit_nb.train import UGATIT, UGATITConfig
from ugatit_nb.widgets import AttentionInspector, VIEWS, CMAPS

p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
p.add_argument('--ch', type=int, default=64); p.add_argument('--img_size', type=int, default=128)
p.add_argument('--light', type=lambda v: v.lower() == 'true', default=True); p.add_argument('--n', type=int, default=5)
a = p.parse_args()
model = UGATIT(UGATITConfig(light=a.light, ch=a.ch, img_size=a.img_size, device='cpu'))
t0 = time.perf_counter()
ins = AttentionInspector(model, embedded_dataset() / 'testA')
first = time.perf_counter() - t0

def timed(change):
    t = time.perf_counter(); change(); return time.perf_counter() - t
new_image = [timed(lambda i=i: setattr(ins.index, 'value', i)) for i in range(1, a.n + 1)]
new_direction = [timed(lambda d=d: setattr(ins.direction, 'value', d)) for d in ['B2A', 'A2B'] * 2][::2]
cached = [timed(lambda v=v: setattr(ins.view, 'value', v)) for v in list(VIEWS)[1:]]
cached += [timed(lambda c=c: setattr(ins.cmap, 'value', c)) for c in CMAPS[1:]]
cached += [timed(lambda o=o: setattr(ins.opacity, 'value', o)) for o in (0.2, 0.4, 0.6, 0.8)]
ms = lambda xs: f'median {1000 * statistics.median(xs):6.0f} ms, max {1000 * max(xs):6.0f} ms (n={len(xs)})'
print(f'torch {torch.__version__}, {torch.get_num_threads()} threads; light={a.light} ch={a.ch} {a.img_size} px, CPU')
print(f'inspector built and first drawn: {1000 * first:.0f} ms (model already built)')
print(f'new image (one generator pass):  {ms(new_image)}')
print(f'new direction (one pass):        {ms(new_direction)}')
print(f'view (first visit: its pass), colormap, opacity: {ms(cached)}')
