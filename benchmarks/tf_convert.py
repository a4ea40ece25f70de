"""Converting the paper's full-size selfie2anime checkpoint: time and peak memory, beside loading the converted file.

A checkpoint with the real names and shapes of the TF release's selfie2anime model (full generators, 256 px, the
2019-08-14 layout) and random values, Adam slots and beta powers included (about 8 GB, like the published one), is
written once by `write_tf_checkpoint` into --dir (a rerun reuses it). Each command then runs in a fresh process, and
the table gives its wall time and its peak resident memory (the operating system's accounting of the finished child),
with the size of what the conversion keeps (the six networks' tensors) for scale:

    python benchmarks/tf_convert.py [--dir /tmp/ugatit_tf_bench] [--runs 2]
"""
import argparse, os, subprocess, sys, time
from pathlib import Path

import numpy as np


def synthetic_checkpoint(folder: Path) -> tuple[Path, int]:
    "The full-size checkpoint (written unless already there) and the bytes of its network tensors."
    from ugatit_nb.config import UGATITConfig
    from ugatit_nb.tf_format import write_tf_checkpoint
    from ugatit_nb.tf_release import tf_variables
    names = tf_variables(UGATITConfig(networks='tf-2019-08-14'))          # ch 64, 4 blocks, 256 px, full
    prefix = folder / 'UGATIT.model-1000000'
    kept = sum(int(np.prod(s)) * 4 for s in names.values())
    if prefix.with_name(prefix.name + '.index').is_file(): return prefix, kept
    rng = np.random.default_rng(0)
    def tensors():
        for name, shape in names.items():
            a = rng.random(shape, dtype=np.float32)                        # ρ within [0, 1]; others small
            yield name, a if name.endswith('rho') else (a - 0.5) * 0.04
            if not name.endswith('/u'):                                    # trainable: Adam's two slots
                yield f'{name}/Adam', a * 1e-3
                yield f'{name}/Adam_1', a * 1e-6
        for k in ('beta1_power', 'beta2_power', 'beta1_power_1', 'beta2_power_1'): yield k, np.float32(0.5)
    t = time.perf_counter()
    write_tf_checkpoint(prefix, tensors())
    size = sum(f.stat().st_size for f in folder.iterdir())
    print(f'wrote {prefix} ({size / 1e9:.2f} GB, {len(names)} network variables) in {time.perf_counter() - t:.0f} s')
    return prefix, kept


def measure(cmd: list[str]) -> tuple[float, float]:
    "Wall seconds and peak RSS (GB) of one run of `cmd` in a fresh process (started from this small one: a child's peak\n    counts the memory it was forked with)."
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if status != 0: raise SystemExit(f'failed: {" ".join(cmd)}\n{p.stderr.read().decode()[-2000:]}')
    return wall, usage.ru_maxrss * 1024 / 1e9                              # ru_maxrss is in KiB on Linux


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--dir', default='/tmp/ugatit_tf_bench', help='where the synthetic checkpoint and outputs go')
    p.add_argument('--runs', type=int, default=2, help='runs of each command (the table gives the median)')
    p.add_argument('--write_only', action='store_true', help=argparse.SUPPRESS)
    a = p.parse_args()
    folder = Path(a.dir); folder.mkdir(parents=True, exist_ok=True)
    if a.write_only:
        prefix, kept = synthetic_checkpoint(folder / 'selfie2anime_synthetic'); print(prefix, kept); return
    # the checkpoint is written (or found) by a child: this process stays small, so its children's peaks are their own
    out = subprocess.run([sys.executable, __file__, '--dir', str(folder), '--write_only'], check=True,
                         capture_output=True, text=True).stdout.splitlines()
    print('\n'.join(out[:-1]))
    prefix, kept = Path(out[-1].rsplit(' ', 1)[0]), int(out[-1].rsplit(' ', 1)[1])
    py = [sys.executable, '-c']
    convert = 'from ugatit_nb.tf_release import convert_cli; convert_cli()'
    rows = [('python + torch + ugatit_nb imported (floor)', py + ['import torch, ugatit_nb.tf_release, ugatit_nb.inference'], kept),
            ('ugatit_nb_convert → fp32 file', py + [convert, str(prefix), '--out', str(folder / 'model32.pt')], kept),
            ('ugatit_nb_convert --half → fp16 file', py + [convert, str(prefix), '--out', str(folder / 'model16.pt'), '--half'], kept // 2),
            ('baseline: ugatit_nb.load(the fp32 file)', py + [f'import ugatit_nb; ugatit_nb.load({str(folder / "model32.pt")!r})'], kept)]
    print(f'network tensors kept: {kept / 1e9:.2f} GB in fp32 ({kept / 2e9:.2f} GB in fp16); median of {a.runs} runs\n')
    print(f'{"command":48s} {"wall s":>8s} {"peak RSS GB":>12s} {"peak / kept":>12s}')
    for label, cmd, keep in rows:
        runs = sorted(measure(cmd) for _ in range(a.runs))
        wall = float(np.median([r[0] for r in runs])); peak = float(np.median([r[1] for r in runs]))
        print(f'{label:48s} {wall:8.1f} {peak:12.2f} {peak / (keep / 1e9):12.2f}', flush=True)


if __name__ == '__main__':
    main()
