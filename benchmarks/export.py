#!/usr/bin/env python
"""CPU latency of one 256 px translation: PyTorch eager against onnxruntime, for the light and the full generator
(the paper's 256 px, 64 channels; random weights, which cost the same as trained ones). Both run in this process with
the same thread count; each row is the median of --runs single-image calls after 2 warm-up calls.

    python benchmarks/export.py                 # light and full (the full export writes a 1.1 GB file; ~3 minutes)
    python benchmarks/export.py --models light --runs 20
"""
import argparse, statistics, tempfile, time
from pathlib import Path

import torch


def timed(f, runs):
    for _ in range(2): f()
    ts = []
    for _ in range(runs): t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--models', nargs='+', default=['light', 'full'], choices=['light', 'full'])
    p.add_argument('--runs', type=int, default=10)
    a = p.parse_args()
    from ugatit_nb.train import UGATIT, UGATITConfig
    from ugatit_nb.export import OnnxTranslator, export_onnx
    print(f'torch {torch.__version__}, onnxruntime {__import__("onnxruntime").__version__}, {torch.get_num_threads()} threads, '
          f'256 px, batch 1, median of {a.runs}')
    print(f'{"generator":10} {"PyTorch ms":>11} {"onnxruntime ms":>15} {"ratio":>6} {"ONNX file MB":>13}')
    for name in a.models:
        torch.manual_seed(0)
        m = UGATIT(UGATITConfig(light=name == 'light', device='cpu'))
        gen = m.nets['gen_a2b'].eval()
        x = torch.rand(1, 3, 256, 256) * 2 - 1
        with torch.no_grad(): eager = timed(lambda: gen(x), a.runs)
        with tempfile.TemporaryDirectory() as tmp:
            path = export_onnx(m, Path(tmp) / 'g.onnx')
            t, xn = OnnxTranslator(path, threads=torch.get_num_threads()), x.numpy()
            ort = timed(lambda: t(xn), a.runs)
            size = path.stat().st_size / 1e6
        print(f'{name:10} {1000 * eager:11.1f} {1000 * ort:15.1f} {ort / eager:6.2f} {size:13.1f}', flush=True)


if __name__ == '__main__':
    main()
