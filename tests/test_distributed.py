"""Several processes on the CPU (torchrun + gloo): the same training as one process with the global batch, identical
networks on every process, a killed process that stops the others with a message, and an exact resume."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ugatit_nb.train import NET_NAMES, UGATIT

pytestmark = pytest.mark.slow   # torchrun processes

TINY = ['--preset', 'tiny', '--ch', '8', '--n_res', '1', '--device', 'cpu', '--print_freq', '1000']
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONUNBUFFERED': '1'}


def torchrun(nproc: int, *args: str) -> list[str]:
    return [sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={nproc}', *args]


def train(out: Path, nproc: int, batch: int, iters: int, *extra: str, timeout: int = 300):
    cmd = torchrun(nproc, '-m', 'ugatit_nb.cli') if nproc > 1 else [sys.executable, '-m', 'ugatit_nb.cli']
    run = subprocess.run(cmd + TINY + ['--batch_size', str(batch), '--iteration', str(iters), '--save_freq', str(iters),
                                       '--result_dir', str(out), *extra], capture_output=True, text=True, timeout=timeout, env=ENV)
    assert run.returncode == 0, run.stderr[:3000] + ' … ' + run.stderr[-1500:]
    return out / 'faces2anime', run.stdout + run.stderr


def log(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / 'log.jsonl').read_text().splitlines()]


def test_two_processes_train_like_one_with_twice_the_batch(tmp_path):
    """2 × batch 1 and 1 × batch 2 see the same images. The losses of iteration 1 (before any update) agree to float
    rounding. The weights then agree except where Adam's first steps flip the sign of a gradient that is zero up to
    rounding: such an entry moves by at most 2·lr per iteration, and they are rare."""
    iters, lr = 2, 1e-4
    one, _ = train(tmp_path / 'one', 1, 2, iters)
    two, said = train(tmp_path / 'two', 2, 1, iters)
    assert '2 processes × batch 1 = global batch 2 (gloo)' in said
    l1, l2 = log(one), log(two)
    assert [r['step'] for r in l2] == [1, 2]                       # one writer: one line per iteration
    for k, v in l1[0].items():
        if '/' in k: assert l2[0][k] == pytest.approx(v, rel=1e-5, abs=1e-7), k
    for k, v in l1[1].items():
        if '/' in k: assert l2[1][k] == pytest.approx(v, rel=1e-3, abs=1e-6), k
    a = UGATIT.from_checkpoint(one / 'checkpoints' / f'ckpt_{iters:07d}.pt')
    b = UGATIT.from_checkpoint(two / 'checkpoints' / f'ckpt_{iters:07d}.pt')
    total = differ = 0
    for n in NET_NAMES:
        for (k, p), q in zip(a.nets[n].state_dict().items(), b.nets[n].state_dict().values()):
            d = (p - q).abs()
            assert d.max() <= 2 * lr * iters + 1e-6, (n, k, d.max().item())
            total, differ = total + d.numel(), differ + (d > 1e-6).sum().item()
    assert differ / total < 0.01, f'{differ} of {total} weights differ by more than 1e-6'


RANK_SCRIPT = '''
import sys, torch
from ugatit_nb.config import tiny_config
from ugatit_nb.train import UGATIT
from ugatit_nb.callbacks import LinearDecayLR
m = UGATIT(tiny_config(ch=8, n_res=1, device='cpu', iteration=3, batch_size=1, result_dir=sys.argv[1]))
m.fit(callbacks=[LinearDecayLR()])
torch.save({n: net.state_dict() for n, net in m.nets.items()}, f'{sys.argv[1]}/rank{m.rank}.pt')
from ugatit_nb.distributed import finish_distributed
finish_distributed()
'''


def test_every_process_holds_the_same_networks_and_spectral_norm_vectors(tmp_path):
    script = tmp_path / 'ranks.py'
    script.write_text(RANK_SCRIPT)
    run = subprocess.run(torchrun(2, str(script), str(tmp_path)), capture_output=True, text=True, timeout=300, env=ENV)
    assert run.returncode == 0, run.stderr[:3000] + ' … ' + run.stderr[-1500:]
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pt') for r in (0, 1))
    n_uv = 0
    for n in NET_NAMES:
        for k in r0[n]:
            assert torch.equal(r0[n][k], r1[n][k]), (n, k)          # bit for bit, u and v included
            n_uv += k.endswith(('weight_u', 'weight_v'))
    assert n_uv > 0


def workers(parent: int) -> dict[int, int]:
    "rank → pid of torchrun's worker processes."
    found = {}
    for pid in subprocess.run(['pgrep', '-P', str(parent)], capture_output=True, text=True).stdout.split():
        env = Path(f'/proc/{pid}/environ').read_bytes().split(b'\0')
        rank = [e for e in env if e.startswith(b'RANK=')]
        if rank: found[int(rank[0][5:])] = int(pid)
    return found


def test_a_killed_process_stops_the_run_with_a_message_and_resume_continues_exactly(tmp_path):
    iters, every = 40, 10
    args = TINY + ['--batch_size', '1', '--iteration', str(iters), '--save_freq', str(every), '--dist_timeout', '60']
    ckpts = tmp_path / 'run' / 'faces2anime' / 'checkpoints'
    proc = subprocess.Popen(torchrun(2, '-m', 'ugatit_nb.cli') + args + ['--result_dir', str(tmp_path / 'run')],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, start_new_session=True)
    try:
        deadline = time.time() + 240
        while not (ckpts / f'ckpt_{every:07d}.pt').exists():
            assert proc.poll() is None and time.time() < deadline, 'the run ended or stalled before its first checkpoint'
            time.sleep(0.2)
        os.kill(workers(proc.pid)[1], signal.SIGKILL)                  # rank 1 dies mid-run
        out, err = proc.communicate(timeout=120)                        # the run ends: nobody waits forever
    finally:
        if proc.poll() is None: os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode != 0
    # rank 0 says in one line what happened and what to do (torchrun adds its own report below it)
    assert ('error: process 0 of 2: lost contact with the other processes' in err and '--resume True' in err
            or 'process 0 of 2: stopped by torchrun' in err), err[-3000:]
    done = sorted(p.name for p in ckpts.glob('ckpt_*.pt'))
    assert done and done[-1] < f'ckpt_{iters:07d}.pt'
    resumed, said = train(tmp_path / 'run', 2, 1, iters, '--resume', 'True')
    assert 'resumed from' in said
    straight, _ = train(tmp_path / 'straight', 2, 1, iters)
    a = UGATIT.from_checkpoint(resumed / 'checkpoints' / f'ckpt_{iters:07d}.pt')
    b = UGATIT.from_checkpoint(straight / 'checkpoints' / f'ckpt_{iters:07d}.pt')
    for n in NET_NAMES:
        for (k, p), q in zip(a.nets[n].state_dict().items(), b.nets[n].state_dict().values()):
            assert torch.equal(p, q), (n, k)                            # the same run as one never interrupted


def test_a_checkpoint_moves_between_one_and_several_processes(tmp_path):
    two, _ = train(tmp_path / 'two', 2, 1, 2)
    one, said = train(tmp_path / 'two', 1, 1, 4, '--resume', 'True')   # written by 2 processes, resumed by 1
    assert 'resumed from' in said and (one / 'checkpoints' / 'ckpt_0000004.pt').exists()
    back, said = train(tmp_path / 'two', 2, 1, 6, '--resume', 'True')  # and back to 2
    assert (back / 'checkpoints' / 'ckpt_0000006.pt').exists()
    assert [r['step'] for r in log(back)] == [1, 2, 3, 4, 5, 6]


def test_compile_with_several_processes_is_refused_in_one_line(tmp_path):
    run = subprocess.run(torchrun(2, '-m', 'ugatit_nb.cli') + TINY + ['--compile', 'True', '--iteration', '2',
                         '--result_dir', str(tmp_path)], capture_output=True, text=True, timeout=300, env=ENV)
    assert run.returncode != 0
    assert 'error: compile=True is not supported with several processes (torchrun) yet' in run.stderr
