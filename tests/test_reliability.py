"""Runs that never lose work: each fault of a run is reproduced here (a second run in a used folder, a full disk, a torn
log line, damaged checkpoints, bad images, weights that are not finite, kill -9, a non-UTF-8 folder name, Ctrl-C with
data workers) and must end in one clear line with nothing already written lost."""
import errno, os, shutil, signal, subprocess, sys, time
from pathlib import Path

import pytest
import torch

from ugatit_nb.checkpoint import read_checkpoint
from ugatit_nb.cli import train_cli
from ugatit_nb.config import tiny_config
from ugatit_nb.data import embedded_dataset, find_images
from ugatit_nb.fast import FastUGATIT
from ugatit_nb.train import NonFiniteLoss, UGATIT
from ugatit_nb.callbacks import Callback, Checkpoints
from ugatit_nb.viz import read_log

pytestmark = pytest.mark.slow   # training processes killed and resumed

SMALL = ['--preset', 'tiny', '--ch', '8', '--n_res', '1', '--n_dis', '5', '--device', 'cpu', '--print_freq', '1000']
NO_SPACE = OSError(errno.ENOSPC, 'No space left on device')


@pytest.fixture
def data(tmp_path):
    "A small dataset in the reference layout: 6 train and 3 test images per domain of faces2anime."
    root = tmp_path / 'small'
    for split, n in (('trainA', 6), ('trainB', 6), ('testA', 3), ('testB', 3)):
        (root / split).mkdir(parents=True)
        for f in find_images(embedded_dataset() / split)[:n]: shutil.copy(f, root / split / f.name)
    return root


def cli(*args, env=None, timeout=300) -> subprocess.CompletedProcess:
    "`ugatit_nb_train ARGS` in a fresh process."
    return subprocess.run([sys.executable, '-c', 'from ugatit_nb.cli import train_cli; train_cli()', *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, 'MPLBACKEND': 'Agg', **(env or {})})


def error_lines(stderr: str) -> list[str]:
    "What a failing command said, less tqdm's progress bar."
    return [l for l in stderr.splitlines() if l.strip() and 'U-GAT-IT:' not in l]


def steps(log: Path) -> list[int]: return [r['step'] for r in read_log(log)]


def names(folder: Path) -> list[str]: return sorted(p.name for p in folder.iterdir())


def test_a_fresh_run_refuses_a_folder_that_holds_another_run(data, tmp_path):
    R = tmp_path / 'R'
    first = cli(*SMALL, '--dataset', data, '--result_dir', R, '--iteration', 12, '--save_freq', 4)
    assert first.returncode == 0, first.stderr
    run, ckpts = R / 'small', R / 'small' / 'checkpoints'
    log_before = (run / 'log.jsonl').read_text()
    second = cli(*SMALL, '--dataset', data, '--result_dir', R, '--iteration', 3, '--save_freq', 1)
    assert second.returncode != 0
    lines = error_lines(second.stderr)
    assert len(lines) == 1 and 'holds another run' in lines[0] and '--resume True' in lines[0], second.stderr
    assert names(ckpts) == ['ckpt_0000004.pt', 'ckpt_0000008.pt', 'ckpt_0000012.pt']     # nothing lost
    assert (run / 'log.jsonl').read_text() == log_before
    again = cli(*SMALL, '--dataset', data, '--result_dir', R, '--iteration', 3, '--save_freq', 1, '--overwrite', 'True')
    assert again.returncode == 0, again.stderr
    assert names(ckpts) == ['ckpt_0000001.pt', 'ckpt_0000002.pt', 'ckpt_0000003.pt'] and steps(run / 'log.jsonl') == [1, 2, 3]


def test_a_torn_log_line_is_repaired_and_a_full_disk_is_one_line(data, tmp_path, monkeypatch):
    R = tmp_path / 'R'
    args = [*SMALL, '--dataset', str(data), '--result_dir', str(R), '--save_freq', '2']
    train_cli(args + ['--iteration', '4'])
    log, ckpts = R / 'small' / 'log.jsonl', R / 'small' / 'checkpoints'
    log.write_text(log.read_text() + '{"step": 5, "lr": 0.0')             # the process died mid-line
    train_cli(args + ['--iteration', '6', '--resume', 'True'])
    assert steps(log) == [1, 2, 3, 4, 5, 6]
    kept = {p.name: p.read_bytes() for p in ckpts.iterdir()}

    def full(*a, **k): raise NO_SPACE
    monkeypatch.setattr(os, 'fsync', full)                                  # the log reaches the disk at each checkpoint
    with pytest.raises(SystemExit) as e: train_cli(args + ['--iteration', '8', '--resume', 'True'])
    assert 'log.jsonl: could not write the training log (No space left on device)' in str(e.value)
    monkeypatch.undo()
    monkeypatch.setattr(torch, 'save', full)                                # and now the checkpoint itself
    with pytest.raises(SystemExit) as e: train_cli(args + ['--iteration', '8', '--resume', 'True'])
    assert 'ckpt_0000008.pt: could not write the checkpoint (No space left on device)' in str(e.value)
    assert '\n' not in str(e.value)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in ckpts.iterdir()} == kept        # every earlier checkpoint as it was
    assert read_checkpoint(ckpts / 'ckpt_0000006.pt')['step'] == 6


def test_a_damaged_checkpoint_is_set_aside_and_the_newest_intact_one_resumed(data, tmp_path):
    R = tmp_path / 'R'
    args = [*SMALL, '--dataset', data, '--result_dir', R, '--save_freq', 2]
    assert cli(*args, '--iteration', 6).returncode == 0
    ckpts = R / 'small' / 'checkpoints'
    six = ckpts / 'ckpt_0000006.pt'
    raw = bytearray(six.read_bytes()); raw[raw.find(b'data/0') + 300] ^= 0x10; six.write_bytes(bytes(raw))   # one bit
    four = ckpts / 'ckpt_0000004.pt'; four.write_bytes(four.read_bytes()[:-500])                             # cut short
    out = cli(*args, '--iteration', 8, '--resume', 'True')
    assert out.returncode == 0, out.stderr
    assert 'ckpt_0000006.pt: damaged checkpoint' in out.stdout and 'resumed from' in out.stdout
    assert 'ckpt_0000002.pt (iteration 2)' in out.stdout
    assert names(ckpts) == ['ckpt_0000004.pt', 'ckpt_0000004.pt.damaged', 'ckpt_0000006.pt', 'ckpt_0000006.pt.damaged',
                            'ckpt_0000008.pt']                                # rewritten 4, 6, 8; the damaged ones kept aside
    assert all(read_checkpoint(ckpts / f'ckpt_{s:07d}.pt')['step'] == s for s in (4, 6, 8))


def test_bad_images_are_skipped_and_named_and_nothing_usable_is_one_line(data, tmp_path):
    (data / 'testA' / 'broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 not really')
    (data / 'trainB' / 'notes.png').write_text('<html>')
    R = tmp_path / 'R'
    out = cli(*SMALL, '--dataset', data, '--result_dir', R, '--iteration', 2, '--save_freq', 2)
    assert out.returncode == 0, out.stderr
    assert 'broken.jpg' in out.stderr and 'notes.png' in out.stderr            # named, once each split
    test = cli(*SMALL, '--dataset', data, '--result_dir', R, '--phase', 'test')
    assert test.returncode == 0 and 'broken.jpg' in test.stderr, test.stderr
    assert len(list((R / 'small' / 'test' / 'A2B').glob('*_A2B.png'))) == 3
    for f in (data / 'trainA').iterdir(): f.write_bytes(b'')                 # every train image of A unusable
    out = cli(*SMALL, '--dataset', data, '--result_dir', tmp_path / 'R2', '--iteration', 2)
    lines = [l for l in error_lines(out.stderr) if l.startswith('error:')]
    assert out.returncode != 0 and len(lines) == 1 and 'trainA: no usable image among 6 file(s)' in lines[0], out.stderr
    assert 'Traceback' not in out.stderr


def test_no_checkpoint_is_written_from_weights_that_are_not_finite(data, tmp_path):
    m = UGATIT(tiny_config(ch=8, n_res=1, n_dis=5, device='cpu', result_dir=str(tmp_path), iteration=6, save_freq=2))
    m.bind_run(data)

    class Poison(Callback):                                                 # weights go bad, the losses did not see it
        def after_step(self, t, losses):
            if t.step == 4:                                                 # a checkpoint iteration
                with torch.no_grad(): t.nets['gen_b2a'].to_rgb.conv.weight[0, 0, 0, 0] = float('inf')
    with pytest.raises(NonFiniteLoss) as e: m.fit(callbacks=[Poison(), Checkpoints()])
    assert 'the weights of gen_b2a are not finite after iteration' in str(e.value)
    assert 'the last good checkpoint is' in str(e.value) and 'ckpt_0000002.pt' in str(e.value)
    assert names(m.ckpt_dir) == ['ckpt_0000002.pt']
    assert all(torch.isfinite(v).all() for v in read_checkpoint(m.ckpt_dir / 'ckpt_0000002.pt')['nets']['gen_b2a'].values())


def test_kill_9_loses_no_log_line_and_no_partial_write_survives_a_resume(data, tmp_path):
    R = tmp_path / 'R'
    args = [sys.executable, '-c', 'from ugatit_nb.cli import train_cli; train_cli()', *SMALL, '--dataset', str(data),
            '--result_dir', str(R), '--save_freq', '3', '--iteration', '100000']
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, 'MPLBACKEND': 'Agg'})
    ckpts, log = R / 'small' / 'checkpoints', R / 'small' / 'log.jsonl'
    deadline = time.time() + 180
    while time.time() < deadline and not (ckpts / 'ckpt_0000009.pt').exists(): time.sleep(0.1)
    time.sleep(0.3)
    p.kill(); p.wait()                                                      # kill -9: no handler runs
    last = int(sorted(ckpts.glob('ckpt_*.pt'))[-1].stem.split('_')[1])
    logged = steps(log)
    assert last >= 9 and logged[:last] == list(range(1, last + 1)), (last, logged)   # every checkpointed line is there
    (ckpts / f'ckpt_{last + 3:07d}.pt.tmp').write_bytes(b'\0' * 1000)     # what a kill during a write leaves
    out = cli(*SMALL, '--dataset', data, '--result_dir', R, '--save_freq', 3, '--iteration', last + 2, '--resume', 'True')
    assert out.returncode == 0, out.stderr
    assert 'a checkpoint write that was interrupted' in out.stderr and not list(ckpts.glob('*.tmp'))
    assert steps(log) == list(range(1, last + 3))


def test_a_dataset_folder_whose_name_is_not_utf8(data, tmp_path):
    odd = tmp_path / os.fsdecode(b'faces\xff2anime')
    shutil.copytree(data, odd)
    strict = {'PYTHONIOENCODING': 'utf-8:strict'}
    out = cli(*SMALL, '--dataset', odd, '--result_dir', tmp_path / 'R', '--iteration', 2, '--save_freq', 2, env=strict)
    assert out.returncode == 0, out.stderr
    again = cli(*SMALL, '--dataset', odd, '--result_dir', tmp_path / 'R', '--iteration', 3, '--resume', 'True', env=strict)
    assert again.returncode == 0 and 'resumed from' in again.stdout and '\\xff' in again.stdout, again.stderr


def test_ctrl_c_with_data_workers_says_it_once(data, tmp_path):
    R = tmp_path / 'R'
    p = subprocess.Popen([sys.executable, '-c', 'from ugatit_nb.cli import train_cli; train_cli()', *SMALL, '--dataset',
                          str(data), '--result_dir', str(R), '--num_workers', '2', '--iteration', '100000'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, 'MPLBACKEND': 'Agg'},
                         start_new_session=True)
    log = R / 'small' / 'log.jsonl'
    deadline = time.time() + 180
    while time.time() < deadline and not (log.exists() and log.stat().st_size): time.sleep(0.1)
    os.killpg(p.pid, signal.SIGINT)                                         # the terminal sends Ctrl-C to the whole group
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert err.count('Ctrl-C: stopping after iteration') == 1, err
    assert read_checkpoint(sorted((R / 'small' / 'checkpoints').glob('ckpt_*.pt'))[-1])['step'] >= 1


def test_the_command_line_explains_itself(data, tmp_path):
    R = tmp_path / 'R'
    base = [*SMALL, '--dataset', data, '--result_dir', R, '--save_freq', 2]
    assert cli(*base, '--iteration', 2).returncode == 0
    same = cli(*base, '--iteration', 2, '--resume', 'True')
    assert same.returncode == 0 and 'nothing to train' in same.stdout
    longer = cli(*base, '--iteration', 4, '--resume', 'True')
    assert 'the learning-rate schedule now follows --iteration 4' in longer.stdout, longer.stdout
    test = cli('--preset', 'tiny', '--device', 'cpu', '--dataset', data, '--result_dir', R, '--phase', 'test')   # no arch flags
    assert test.returncode == 0 and 'testing' in test.stdout, test.stderr
    for bad, said in ((['--phase', 'tset'], "invalid choice: 'tset'"), (['--amp', 'bf17'], "invalid choice: 'bf17'"),
                      (['--img_size', '30'], 'img_size must be a multiple of 4'), (['--iteraton', '5'], 'did you mean --iteration'),
                      (['--dataset', '/no/such/place'], '/no/such/place is not a folder')):
        out = cli('--preset', 'tiny', '--device', 'cpu', *bad)
        assert out.returncode != 0 and len(error_lines(out.stderr)) == 1 and said in out.stderr, (bad, out.stderr)
    if not torch.cuda.is_available():
        out = cli('--preset', 'tiny', '--device', 'cuda')
        assert error_lines(out.stderr) == ["error: device 'cuda': CUDA is not available here"]
    with pytest.warns(UserWarning, match='fp16 on a CPU runs several times slower'):
        FastUGATIT(tiny_config(ch=8, n_res=1, device='cpu', amp='fp16'))


def test_a_kill_while_resume_rewrites_the_log_loses_no_line(data, tmp_path):
    "The resumed run rewrites log.jsonl without the lines after its checkpoint: killed in the middle of that, the log stands."
    R = tmp_path / 'R'
    args = [*SMALL, '--dataset', data, '--result_dir', R, '--save_freq', 2]
    assert cli(*args, '--iteration', 4).returncode == 0
    log = R / 'small' / 'log.jsonl'
    before = log.read_text()
    # the process dies (kill -9) after writing half of the first file it writes with Path.write_text
    die = ("import os, pathlib, signal\n"
           "def half(self, text, *a, **k):\n"
           "    open(self, 'w').write(text[:len(text) // 2]); os.kill(os.getpid(), signal.SIGKILL)\n"
           "pathlib.Path.write_text = half\n"
           "from ugatit_nb.cli import train_cli; train_cli()")
    out = subprocess.run([sys.executable, '-c', die, *map(str, args), '--iteration', '6', '--resume', 'True'],
                         capture_output=True, text=True, timeout=300, env={**os.environ, 'MPLBACKEND': 'Agg'})
    assert out.returncode == -signal.SIGKILL
    assert log.read_text() == before                                        # every line of iterations 1–4
    out = cli(*args, '--iteration', 6, '--resume', 'True')
    assert out.returncode == 0, out.stderr
    assert steps(log) == [1, 2, 3, 4, 5, 6] and not list(log.parent.glob('*.tmp'))


def test_two_runs_never_share_a_folder(data, tmp_path):
    R = tmp_path / 'R'
    args = [*SMALL, '--dataset', data, '--result_dir', R, '--save_freq', 3]
    first = subprocess.Popen([sys.executable, '-c', 'from ugatit_nb.cli import train_cli; train_cli()',
                              *map(str, args), '--iteration', '100000'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**os.environ, 'MPLBACKEND': 'Agg'})
    ckpts, log = R / 'small' / 'checkpoints', R / 'small' / 'log.jsonl'
    try:
        deadline = time.time() + 180
        while time.time() < deadline and not (ckpts / 'ckpt_0000003.pt').exists(): time.sleep(0.1)
        for extra in ([], ['--resume', 'True'], ['--overwrite', 'True']):    # beside the live run: all refused
            out = cli(*args, '--iteration', 5, *extra)
            lines = error_lines(out.stderr)
            assert out.returncode == 1 and len(lines) == 1 and 'is in use by a run that is training now' in lines[0], out.stderr
        assert list(ckpts.glob('ckpt_*.pt')) and steps(log)[:3] == [1, 2, 3]          # nothing of the live run touched
        assert steps(log) == list(range(1, len(steps(log)) + 1))               # one run's lines, in order
    finally:
        first.kill(); first.wait()                                            # kill -9: the lock goes with the process
    out = cli(*args, '--iteration', int(sorted(ckpts.glob('ckpt_*.pt'))[-1].stem.split('_')[1]) + 1, '--resume', 'True')
    assert out.returncode == 0, out.stderr


def test_a_full_disk_inside_torch_save_is_named(data, tmp_path, monkeypatch):
    "torch's zip writer turns ENOSPC into '[enforce fail at inline_container.cc] unexpected pos': say the disk is full."
    R = tmp_path / 'R'
    args = [*SMALL, '--dataset', str(data), '--result_dir', str(R), '--save_freq', '2']
    train_cli(args + ['--iteration', '2'])
    def torch_full(obj, f, *a, **k):
        f.write(b'PK' + b'\0' * 1000)
        raise RuntimeError('[enforce fail at inline_container.cc:672] . unexpected pos 4175296 vs 4175184')
    monkeypatch.setattr(torch, 'save', torch_full)
    monkeypatch.setattr(shutil, 'disk_usage', lambda p: shutil._ntuple_diskusage(10 << 30, 10 << 30, 0))
    with pytest.raises(SystemExit) as e: train_cli(args + ['--iteration', '4', '--resume', 'True'])
    assert 'ckpt_0000004.pt: could not write the checkpoint (the disk is full: 0 MiB free on it)' in str(e.value)
    monkeypatch.undo()
    ckpts = R / 'small' / 'checkpoints'
    assert names(ckpts) == ['ckpt_0000002.pt'] and read_checkpoint(ckpts / 'ckpt_0000002.pt')['step'] == 2
