"""The trainer against an independent rebuild of the release's training iteration; checkpoints; the command line."""
import json, os, signal, subprocess, sys, time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from ugatit_nb.release_rebuild import release_networks, release_optimizers, release_train_step
from ugatit_nb.pytorch_release import to_official
from ugatit_nb.callbacks import Checkpoints, LinearDecayLR
from ugatit_nb.checkpoint import CheckpointError, latest_checkpoint, read_checkpoint
from ugatit_nb.methods import trainer_for
from ugatit_nb.config import FAST_STEP
from ugatit_nb.fast import FastUGATIT
from ugatit_nb.train import RELEASE_NAME, UGATIT, UGATITConfig

REPO = Path(__file__).resolve().parents[1]
CFG = UGATITConfig(light=True, img_size=128, ch=4, n_res=1, n_dis=7, iteration=4, lr=1e-4, device='cpu')


# each variant is applied over the presets' FAST_STEP; the first and the last two are FastUGATIT's, the plain one UGATIT's
@pytest.mark.parametrize('variant', [{}, dict(fuse_calls=False, freeze_d_in_g_step=False), dict(step_in_backward=True),
                                     dict(fuse_calls=False),
                                     dict(fuse_calls=False, share_translations=False),
                                     dict(fuse_calls=False, detach_d_fakes=False, freeze_d_in_g_step=False, fold_norms=False,
                                          share_translations=False)])
def test_iterations_match_the_release_algorithm(variant):
    torch.manual_seed(0)
    rel = release_networks(ch=4, n_res=1, img_size=128, light=True)
    G_optim, D_optim = release_optimizers(rel)
    ours = trainer_for(replace(CFG, **{**FAST_STEP, **variant})).load_official({k: m.state_dict() for k, m in rel.items()})
    assert type(ours) is (UGATIT if variant == dict(fuse_calls=False, freeze_d_in_g_step=False) else FastUGATIT)
    lr = LinearDecayLR()
    torch.manual_seed(1)
    for step in range(1, 5):                               # steps 3 and 4 are in the decay half
        real_a, real_b = torch.rand(1, 3, 128, 128) * 2 - 1, torch.rand(1, 3, 128, 128) * 2 - 1
        d_ref, g_ref = release_train_step(rel, G_optim, D_optim, real_a, real_b, step, iteration=4)
        lr.before_step(ours)
        losses = ours.train_step(real_a, real_b)
        assert losses['d/total'] == pytest.approx(d_ref, rel=1e-5)
        assert losses['g/total'] == pytest.approx(g_ref, rel=1e-5)
    assert ours.opt_g.param_groups[0]['lr'] == G_optim.param_groups[0]['lr'] == 0.0
    mine = to_official({RELEASE_NAME[n]: net.state_dict() for n, net in ours.nets.items()})
    for name, net in rel.items():
        for key, value in net.state_dict().items():
            # atol 1e-5 is a tenth of one Adam step (lr 1e-4): Adam divides by √v, so where a gradient is nearly 0 the
            # last bits of float rounding (which differ between CPUs' kernels) move a weight by a few 1e-6; a step
            # taken differently moves weights by about lr
            assert torch.allclose(mine[name][key], value, rtol=1e-4, atol=1e-5), (name, key)


def _tiny(tmp, **kw):
    return UGATIT(UGATITConfig(light=True, img_size=64, ch=8, n_res=1, n_dis=5, device='cpu', batch_size=1,
                               result_dir=str(tmp), **kw)).bind_run()


def test_interrupted_checkpoint_write_keeps_the_previous_one(tmp_path, monkeypatch):
    m = _tiny(tmp_path, iteration=2, save_freq=1, print_freq=100)
    m.fit(callbacks=[Checkpoints()])
    good = latest_checkpoint(m.result_root / 'checkpoints')
    assert good.name == 'ckpt_0000002.pt'
    real_save = torch.save
    def dies_half_way(obj, f, *a, **k):                    # write half a checkpoint, then the machine "dies"
        real_save(obj, f, *a, **k); f.seek(f.tell() // 2); f.truncate(); raise OSError('disk yanked')
    monkeypatch.setattr(torch, 'save', dies_half_way)
    m.step = 3
    with pytest.raises(CheckpointError, match='could not write the checkpoint .disk yanked.'):
        m.save_checkpoint()
    monkeypatch.undo()
    assert latest_checkpoint(m.result_root / 'checkpoints') == good       # the half-written file is not a checkpoint
    assert not list((m.result_root / 'checkpoints').glob('*.tmp'))
    assert read_checkpoint(good)['step'] == 2
    _tiny(tmp_path).load_checkpoint(good)


def test_keep_last_n_checkpoints(tmp_path):
    m = _tiny(tmp_path, iteration=5, save_freq=1, keep_ckpts=2)
    m.fit(callbacks=[Checkpoints()])
    assert [p.name for p in sorted((m.result_root / 'checkpoints').glob('ckpt_*'))] == ['ckpt_0000004.pt', 'ckpt_0000005.pt']


@pytest.mark.slow                                          # training processes
def test_cli_trains_resumes_and_tests_end_to_end(tmp_path):
    env = {**os.environ, 'MPLBACKEND': 'Agg'}
    base = [sys.executable, '-c', 'from ugatit_nb.cli import train_cli; train_cli()', '--dataset', str(REPO / 'data' / 'faces2anime'),
            '--light', 'True', '--img_size', '64', '--ch', '8', '--n_res', '1', '--n_dis', '5', '--print_freq', '2',
            '--save_freq', '2', '--result_dir', str(tmp_path), '--device', 'cpu']
    out = subprocess.run(base + ['--iteration', '2'], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    root = tmp_path / 'faces2anime'
    assert (root / 'checkpoints' / 'ckpt_0000002.pt').exists()
    assert (root / 'samples' / 'A2B_0000002.png').exists() and (root / 'samples' / 'B2A_0000002.png').exists()
    out = subprocess.run(base + ['--iteration', '4', '--resume', 'True'], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0 and 'resumed from' in out.stdout, out.stderr
    assert latest_checkpoint(root / 'checkpoints').name == 'ckpt_0000004.pt'
    assert len((root / 'log.jsonl').read_text().splitlines()) == 4
    out = subprocess.run(base + ['--phase', 'test'], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert len(list((root / 'test' / 'A2B').glob('*_A2B.png'))) == 50
    out = subprocess.run(base + ['--ch', '4', '--phase', 'test'], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0 and 'testing' in out.stdout, out.stderr          # the test phase builds what the checkpoint holds
    out = subprocess.run(base + ['--ch', '4', '--iteration', '6', '--resume', 'True'], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode != 0 and 'different networks: ch=8 (this run: 4)' in out.stderr


@pytest.mark.slow                                          # a training process and two evaluations
def test_cli_ends_with_the_mean_of_the_last_checkpoints(tmp_path):
    cmd = [sys.executable, '-c', 'from ugatit_nb.cli import train_cli; train_cli()', '--preset', 'tiny', '--ch', '8',
           '--n_res', '1', '--iteration', '4', '--save_freq', '1', '--keep_ckpts', '3', '--average_last', '3',
           '--eval_freq', '4', '--result_dir', str(tmp_path), '--device', 'cpu']
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'MPLBACKEND': 'Agg'}, timeout=600)
    assert out.returncode == 0, out.stderr
    root = tmp_path / 'faces2anime'
    assert 'averaged generators (the mean of 3 checkpoints (iterations 2, 3, 4))' in out.stdout, out.stdout
    assert 'evaluation of the mean of the last 3 checkpoints' in out.stdout, out.stdout
    last = json.loads((root / 'log.jsonl').read_text().splitlines()[-1])
    assert last['step'] == 4 and last['eval/mean_of'] == 3 and 'eval/A2B/structure' in last
    assert (root / 'samples' / 'A2B_0000004_mean3.png').exists() and (root / 'samples' / 'A2B_0000004.png').exists()
    ev = subprocess.run([sys.executable, '-c', 'from ugatit_nb.evaluate import eval_cli; eval_cli()',
                         str(root / 'mean_of_3.pt'), '--json', str(tmp_path / 'ev.json')], capture_output=True, text=True, timeout=600)
    assert ev.returncode == 0, ev.stderr                                 # the file it wrote scores as the run said
    again = json.loads((tmp_path / 'ev.json').read_text())['results']
    assert abs(again['A2B']['structure']['mean'] - last['eval/A2B/structure']) < 1e-6
    tested = subprocess.run(cmd + ['--phase', 'test'], capture_output=True, text=True, env={**os.environ, 'MPLBACKEND': 'Agg'}, timeout=600)
    assert tested.returncode == 0 and f"testing {root / 'mean_of_3.pt'} (iteration 4)" in tested.stdout, tested.stderr
    over = subprocess.run(cmd + ['--overwrite', 'True', '--average_last', '0', '--iteration', '1'], capture_output=True,
                          text=True, env={**os.environ, 'MPLBACKEND': 'Agg'}, timeout=600)
    assert over.returncode == 0 and not (root / 'mean_of_3.pt').exists(), over.stderr   # an overwritten run's mean goes with it


@pytest.mark.slow                                          # training processes
def test_ctrl_c_in_a_shell_saves_and_exits_cleanly(tmp_path):
    cmd = [sys.executable, '-c', 'from ugatit_nb.cli import train_cli; train_cli()', '--preset', 'tiny',
           '--ch', '8', '--n_res', '1', '--batch_size', '1', '--iteration', '100000', '--save_freq', '100000',
           '--print_freq', '100000', '--result_dir', str(tmp_path), '--device', 'cpu']
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, 'MPLBACKEND': 'Agg'})
    log = tmp_path / 'faces2anime' / 'log.jsonl'
    deadline = time.time() + 120
    while time.time() < deadline and not log.exists():   # created once the loop (and its SIGINT handler) starts
        time.sleep(0.2)
    time.sleep(3)                                         # a few iterations
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert 'Ctrl-C: stopping after iteration' in err
    ckpt = latest_checkpoint(tmp_path / 'faces2anime' / 'checkpoints')
    assert ckpt is not None and read_checkpoint(ckpt)['step'] >= 1


def test_non_finite_loss_is_named(tmp_path):
    m = _tiny(tmp_path, iteration=3)
    with torch.no_grad():
        m.nets['disc_local_b'].classifier.conv.weight_orig.fill_(float('inf'))
    with pytest.raises(Exception, match=r'loss d/adv_local_b is (nan|inf)'):
        m.train_step(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 64, 64))


def test_channels_last_gives_the_same_step():
    cfg = UGATITConfig(light=True, img_size=64, ch=8, n_res=1, n_dis=5, device='cpu', **FAST_STEP)
    a, b = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    torch.manual_seed(0); plain = FastUGATIT(cfg).train_step(a, b)
    torch.manual_seed(0); nhwc = FastUGATIT(replace(cfg, channels_last=True)).train_step(a, b)
    for k in plain: assert nhwc[k] == pytest.approx(plain[k], rel=1e-4, abs=1e-6), k


def test_gpu_only_paths_are_guarded():
    if torch.cuda.is_available(): pytest.skip('a GPU is present')
    with pytest.raises(RuntimeError, match="device 'cuda': CUDA is not available here"):
        UGATIT(UGATITConfig(light=True, img_size=64, ch=8, n_res=1, n_dis=5, device='cuda'))
    assert UGATIT(UGATITConfig(light=True, img_size=64, ch=8, n_res=1, n_dis=5, device='auto')).device.type in ('cpu', 'mps')


@pytest.mark.parametrize('options', [dict(adam='fused', step_in_backward=True), dict(adam='foreach')])
def test_resume_is_exact_with_adam_kernels_and_step_in_backward(tmp_path, options):
    cfg = UGATITConfig(light=True, img_size=64, ch=8, n_res=1, n_dis=5, device='cpu', **FAST_STEP, **options)
    a, b = torch.rand(1, 3, 64, 64) * 2 - 1, torch.rand(1, 3, 64, 64) * 2 - 1
    torch.manual_seed(0); straight = FastUGATIT(cfg)
    for _ in range(3): straight.train_step(a, b)
    torch.manual_seed(0); first = FastUGATIT(cfg)
    for _ in range(2): first.train_step(a, b)
    path = first.save_checkpoint(tmp_path / 'ckpt.pt')
    resumed = FastUGATIT(cfg).load_checkpoint(path)
    other = FastUGATIT(replace(cfg, adam='for-loop', step_in_backward=False)).load_checkpoint(path)   # another run's kernels
    key = 'fused' if options['adam'] == 'fused' else 'foreach'
    assert all(g[key] for opt in (resumed.opt_g, resumed.opt_d) for g in opt.param_groups)
    assert not any(g['fused'] or g['foreach'] for opt in (other.opt_g, other.opt_d) for g in opt.param_groups)
    resumed.train_step(a, b)
    for n in straight.nets:
        for p, q in zip(straight.nets[n].parameters(), resumed.nets[n].parameters()):
            assert torch.equal(p, q), n


def test_a_new_generator_output_is_one_row():
    "A generator output added to `generator_calls` alone comes out of the plain step and of the fused one, equal."
    extra = (('fake_a2b2b', 'cam_a2b2b', 'gen_a2b', 'fake_a2b'),)    # e.g. a loss on translating a translation again
    plain = type('Plain', (UGATIT,), {'generator_calls': UGATIT.generator_calls + extra})
    fused = type('Fused', (FastUGATIT,), {'generator_calls': UGATIT.generator_calls + extra})
    cfg = UGATITConfig(light=True, img_size=96, ch=4, n_res=1, n_dis=6, device='cpu')
    torch.manual_seed(0); a = plain(cfg)
    torch.manual_seed(0); b = fused(replace(cfg, **FAST_STEP))
    x, y = torch.rand(2, 3, 96, 96) * 2 - 1, torch.rand(2, 3, 96, 96) * 2 - 1
    with torch.no_grad(): ta, tb = a.generate(x, y), b.generate(x, y)
    assert set(ta) == set(tb) and {'fake_a2b2b', 'cam_a2b2b'} <= set(ta)
    # fp32 rounding only: oneDNN may pick another convolution kernel for the fused call's larger batch (up to 2e-6 on
    # outputs of size 1 on an AVX-512 EPYC); a wrong row would differ by the size of an image
    for k in ta: torch.testing.assert_close(tb[k], ta[k], rtol=1e-5, atol=1e-5, msg=k)
    with torch.no_grad(): want = a.gen_a2b(ta['fake_a2b'])[0]
    torch.testing.assert_close(ta['fake_a2b2b'], want)
    broken = type('Broken', (FastUGATIT,), {'generator_calls': (('fake_x', None, 'gen_a2b', 'nothing'),)})
    with pytest.raises(ValueError, match='no row makes the input'): broken(replace(cfg, **FAST_STEP)).generate(x, y)
