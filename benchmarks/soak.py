#!/usr/bin/env python
"""Soak test of resumable training: the tiny preset, killed with SIGKILL at random moments and resumed, again and again,
until it reaches --iteration; then the same run without interruption, as the baseline.

After every kill it verifies each checkpoint on disk (CRCs and loading) and counts log lines lost: iterations up to the
newest checkpoint whose line is missing from log.jsonl (must be 0). At the end it compares the interrupted run's final
weights and logged losses with the uninterrupted run's (exact resume: identical). Prints one table. Usage:

    python benchmarks/soak.py                          # 300 iterations, a kill every 2-6 s, at least 10 kills
    python benchmarks/soak.py --iteration 600 --min_kills 20 --seed 1
"""
import argparse, os, random, shutil, signal, subprocess, sys, tempfile, time
from pathlib import Path


from ugatit_nb.checkpoint import read_checkpoint
from ugatit_nb.data import embedded_dataset
from ugatit_nb.viz import read_log

LOSSES = ('d/total', 'g/total', 'g/cycle_a', 'g/cam_b')


def train(root: Path, args, resume: bool) -> subprocess.Popen:
    cmd = [sys.executable, '-c', 'from ugatit_nb.cli import train_cli; train_cli()', '--preset', 'tiny',
           '--ch', str(args.ch), '--n_res', '1', '--device', 'cpu', '--dataset', str(embedded_dataset()),
           '--result_dir', str(root), '--iteration', str(args.iteration), '--save_freq', str(args.save_freq),
           '--print_freq', str(args.iteration), '--resume', str(resume)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': '1'})


def audit(run: Path) -> tuple[int, int, int]:
    "(checkpoints verified, newest checkpoint's iteration, log lines lost up to it); raises if a checkpoint is bad."
    ckpts = sorted((run / 'checkpoints').glob('ckpt_*.pt'))
    for c in ckpts: read_checkpoint(c)                    # CRCs, format, tensors only
    newest = read_checkpoint(ckpts[-1])['step'] if ckpts else 0
    logged = {r['step'] for r in read_log(run / 'log.jsonl')} if (run / 'log.jsonl').exists() else set()
    return len(ckpts), newest, sum(1 for s in range(1, newest + 1) if s not in logged)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--iteration', type=int, default=300)
    ap.add_argument('--save_freq', type=int, default=5)
    ap.add_argument('--ch', type=int, default=8)
    ap.add_argument('--min_kills', type=int, default=10)
    ap.add_argument('--kill_after', type=float, nargs=2, default=(2.0, 6.0), help='seconds, drawn uniformly')
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix='ugatit_soak_'))
    try:
        soaked, run = tmp / 'soaked', tmp / 'soaked' / 'faces2anime'
        t0, kills, verified, lost, cycles = time.time(), 0, 0, 0, []
        first = True
        while True:
            p = train(soaked, args, resume=not first); first = False
            wait = rnd.uniform(*args.kill_after) if kills < args.min_kills else None
            try: p.wait(timeout=wait); finished = p.returncode == 0
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGKILL); p.wait(); kills += 1; finished = False
            n, newest, missing = audit(run)
            verified += n; lost += missing; cycles.append(newest)
            if finished: break
            if p.returncode not in (0, -signal.SIGKILL): sys.exit(f'the run failed (exit {p.returncode})')
        soak_s = time.time() - t0
        t1 = time.time()
        plain = tmp / 'plain'
        q = train(plain, args, resume=False); q.wait()
        plain_s = time.time() - t1
        a = read_checkpoint(sorted((run / 'checkpoints').glob('ckpt_*.pt'))[-1])
        b = read_checkpoint(sorted((plain / 'faces2anime' / 'checkpoints').glob('ckpt_*.pt'))[-1])
        diff = max((x.float() - y.float()).abs().max().item() for n in a['nets'] for x, y in
                   zip(a['nets'][n].values(), b['nets'][n].values()))
        la, lb = read_log(run / 'log.jsonl'), read_log(plain / 'faces2anime' / 'log.jsonl')
        same_log = [r['step'] for r in la] == [r['step'] for r in lb] and all(
            ra[k] == rb[k] for ra, rb in zip(la, lb) for k in LOSSES)
        rows = [('iterations', f'{a["step"]}', f'{b["step"]}'),
                ('SIGKILLs, then resumes', f'{kills}', '0'),
                ('newest checkpoint after each kill', ' '.join(map(str, cycles[:-1])), '—'),
                ('checkpoint reads verified (CRC + load)', f'{verified}', '—'),
                ('log lines lost up to the newest checkpoint', f'{lost}', '—'),
                ('log: same iterations and losses as the baseline', 'yes' if same_log else 'NO', '—'),
                ('final weights, max |soaked − baseline|', f'{diff:.3g}', '0'),
                ('wall time', f'{soak_s:.0f} s', f'{plain_s:.0f} s')]
        w = max(len(r[0]) for r in rows)
        print(f'{"":{w}}  {"killed + resumed":>18}  {"uninterrupted":>14}')
        for r in rows: print(f'{r[0]:{w}}  {r[1]:>18}  {r[2]:>14}')
        sys.exit(0 if lost == 0 and diff == 0 and same_log and kills >= args.min_kills else 1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
