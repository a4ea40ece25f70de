"""The six compared methods: each resumes exactly through `fit`, and trains, resumes, tests and is evaluated from the shell."""
import os, subprocess, sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from ugatit_nb.callbacks import Callback, Checkpoints, LinearDecayLR
from ugatit_nb.methods import trainer_for
from ugatit_nb.config import tiny_config
from ugatit_nb.methods import METHODS, PAPER_METHOD

REPO = Path(__file__).resolve().parents[1]
BASELINES = [m for m in METHODS if m != PAPER_METHOD]


class StopAt(Callback):
    "Ask the run to stop (and checkpoint) after iteration `step`, as Ctrl-C does."
    def __init__(self, step): self.at = step
    def after_step(self, t, losses):
        if t.step == self.at: t.request_stop()


@pytest.mark.parametrize('model', BASELINES)
def test_a_run_stopped_halfway_and_resumed_equals_the_run_straight_through(tmp_path, model):
    # 6 iterations: AGGAN freezes its attention from the 2nd, CartoonGAN ends its initialization after the 1st
    cfg = tiny_config(model=model, ch=8, n_res=1, iteration=6, save_freq=3, device='cpu')
    straight = trainer_for(replace(cfg, result_dir=str(tmp_path / 'straight'))).fit(callbacks=[LinearDecayLR()])
    half = replace(cfg, result_dir=str(tmp_path / 'halves'))
    assert trainer_for(half).fit(callbacks=[LinearDecayLR(), StopAt(3), Checkpoints()]).step == 3
    resumed = trainer_for(replace(half, resume=True)).fit(callbacks=[LinearDecayLR()])
    assert resumed.step == straight.step == 6
    for n in straight.nets:
        for (k, p), q in zip(straight.nets[n].state_dict().items(), resumed.nets[n].state_dict().values()):
            assert torch.equal(p, q), f'{model}: {n}.{k} differs after resuming'
    for k, v in straight.extra_state().items():                      # CycleGAN's and AGGAN's history of fakes
        assert torch.equal(v, resumed.extra_state()[k]), k


def test_a_compared_method_trains_resumes_tests_and_evaluates_from_the_shell(tmp_path):
    env = {**os.environ, 'MPLBACKEND': 'Agg'}
    base = [sys.executable, '-c', 'from ugatit_nb.cli import train_cli; train_cli()', '--model', 'aggan', '--preset', 'tiny',
            '--ch', '8', '--n_res', '1', '--print_freq', '2', '--save_freq', '2', '--result_dir', str(tmp_path), '--device', 'cpu']
    run = lambda *extra: subprocess.run(base + list(extra), capture_output=True, text=True, env=env, timeout=300)
    out = run('--iteration', '2')
    assert out.returncode == 0, out.stderr
    root = tmp_path / 'faces2anime'
    assert (root / 'samples' / 'A2B_0000002.png').exists()
    out = run('--iteration', '4', '--resume', 'True')
    assert out.returncode == 0 and 'resumed from' in out.stdout, out.stderr
    assert len((root / 'log.jsonl').read_text().splitlines()) == 4
    out = run('--phase', 'test')
    assert out.returncode == 0 and 'testing' in out.stdout, out.stderr
    assert len(list((root / 'test' / 'A2B').glob('*_A2B.png'))) == 50
    assert (root / 'test' / 'A2B' / 'testA_0000_A2B_cam.png').exists()        # AGGAN's mask, where U-GAT-IT's CAM goes
    out = run('--model', 'cyclegan', '--iteration', '6', '--resume', 'True')   # another method's checkpoint: one line
    assert out.returncode != 0 and "different networks: model='aggan' (this run: 'cyclegan')" in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    out = subprocess.run([sys.executable, '-c', 'from ugatit_nb.evaluate import eval_cli; eval_cli()',
                          str(root / 'checkpoints' / 'ckpt_0000004.pt')], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert 'structure' in out.stdout and "attention: AGGAN's mask" in out.stdout
    out = run('--model', 'gan', '--iteration', '2')
    assert out.returncode == 2 and "invalid choice: 'gan'" in out.stderr


def test_a_compared_method_is_loaded_served_and_refused_by_the_u_gat_it_widgets(tmp_path):
    from PIL import Image
    import ugatit_nb
    from ugatit_nb.translator import Translator
    from ugatit_nb.widgets import AttentionInspector
    m = trainer_for(tiny_config(model='munit', ch=8, n_res=1, device='cpu'))
    path = m.save_weights(tmp_path / 'munit.pt')
    model = ugatit_nb.load(path)
    assert model.describe().startswith('MUNIT, 64 px, ch 8')
    y, cam, heat = model.translate(torch.zeros(2, 3, 64, 64), 'A2B')
    assert y.shape == (2, 3, 64, 64) and cam is None and heat is None
    with pytest.raises(ValueError, match='MUNIT has no U-GAT-IT critics'): model.discriminator('A')
    out = Translator(path).photo(Image.new('RGB', (100, 80), (200, 150, 120)), 'B2A', centre=False)
    assert out['translation'].size == (64, 64) and 'MUNIT has no attention map' in out['eta']
    with pytest.raises(ValueError, match="AttentionInspector shows U-GAT-IT's CAM and AdaLIN; this is a MUNIT model"):
        AttentionInspector(model)


def test_a_compared_method_takes_its_weights_from_the_config_or_refuses_them():
    torch.manual_seed(0)
    a, b = torch.rand(1, 3, 64, 64) * 2 - 1, torch.rand(1, 3, 64, 64) * 2 - 1
    cfg = tiny_config(model='cyclegan', ch=4, n_res=1, device='cpu')
    assert (cfg.cycle_weight, cfg.identity_weight, cfg.cam_weight) == (10., 5., 0.)     # CycleGAN's own λ
    plain = trainer_for(cfg).train_step(a, b)
    heavier = trainer_for(replace(cfg, cycle_weight=20.)).train_step(a, b)
    assert heavier['g/cycle_a'] == plain['g/cycle_a']                                    # the same networks and step
    extra = heavier['g/total'] - plain['g/total']
    assert abs(extra - 10 * (plain['g/cycle_a'] + plain['g/cycle_b'])) < 1e-4 * max(1, abs(extra))   # λ₂ moved the loss
    with pytest.raises(ValueError, match='MUNIT has no cycle term: cycle_weight must be 0 for it, got 5.0'):
        trainer_for(tiny_config(model='munit', cycle_weight=5., device='cpu'))
    with pytest.raises(ValueError, match='CycleGAN has no cam term'):
        trainer_for(replace(cfg, cam_weight=10.))


def test_each_method_updates_in_its_release_order():
    "CycleGAN's release steps the generators, then the critics; the others (and U-GAT-IT) the critics first."
    torch.manual_seed(0)
    a, b = torch.rand(1, 3, 64, 64) * 2 - 1, torch.rand(1, 3, 64, 64) * 2 - 1
    order = {}
    for m in ('cyclegan', 'unit'):
        t, seen = trainer_for(tiny_config(model=m, ch=4, n_res=1, device='cpu')), []
        for name in ('opt_g', 'opt_d'):
            opt = getattr(t, name)
            opt.step = (lambda step, name: lambda *a, **k: (seen.append(name), step(*a, **k))[1])(opt.step, name)
        t.train_step(a, b)
        order[m] = seen
    assert order == {'cyclegan': ['opt_g', 'opt_d'], 'unit': ['opt_d', 'opt_g']}


def test_drit_trains_its_content_critic_as_its_release():
    "D^c: three updates per iteration at lr / 2.5 (kept by the schedule), gradients clipped at 5; the KL summed."
    from ugatit_nb.drit import kl_gaussian
    t = trainer_for(tiny_config(model='drit', ch=4, n_res=1, device='cpu'))
    content = set(t.nets['disc_content'].parameters())
    group = next(g for g in t.opt_d.param_groups if set(g['params']) == content)
    LinearDecayLR().before_step(t)
    assert abs(group['lr'] - t.opt_d.param_groups[0]['lr'] / 2.5) < 1e-12
    steps, norms = [], []
    t.opt_d.step = (lambda step: lambda *a, **k: (steps.append(1), step(*a, **k))[1])(t.opt_d.step)
    clip = torch.nn.utils.clip_grad_norm_
    torch.nn.utils.clip_grad_norm_ = lambda params, max_norm, **k: (norms.append(max_norm), clip(params, max_norm, **k))[1]
    try: losses = t.train_step(torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1)
    finally: torch.nn.utils.clip_grad_norm_ = clip
    assert len(steps) == 3 and norms == [5.0] * 3
    assert {'g/l2_content_a', 'g/l2_content_b'} <= set(losses)                # the release's L2 on the content codes
    mu, logvar = torch.randn(2, 8), torch.randn(2, 8)
    assert torch.isclose(kl_gaussian(mu, logvar), 16 * -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).mean())


def test_each_method_starts_from_its_release_initialisation():
    "CycleGAN, DRIT, AGGAN, CartoonGAN: N(0, 0.02) convolutions; UNIT, MUNIT: Kaiming generators, N(0, 0.02) critics."
    def conv_std(net):
        ws = [m.weight.flatten() for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.weight.shape[1] >= 16]
        return torch.cat(ws).std().item()
    torch.manual_seed(0)
    for m, gen in (('cyclegan', 'gen_a2b'), ('drit', 'enc_c_a'), ('aggan', 'att_a'), ('cartoongan', 'gen_a2b')):
        t = trainer_for(tiny_config(model=m, ch=16, device='cpu'))
        assert abs(conv_std(t.nets[gen]) - 0.02) < 0.002 and abs(conv_std(t.nets['disc_a']) - 0.02) < 0.002, m
    for m, gen in (('unit', 'enc_a'), ('munit', 'gen_a')):
        t = trainer_for(tiny_config(model=m, ch=16, device='cpu'))
        assert conv_std(t.nets[gen]) > 0.05 and abs(conv_std(t.nets['disc_a']) - 0.02) < 0.002, m   # Kaiming: √(2 / fan in)


def test_aggan_second_stage_as_its_release():
    "Two-stage attention; in the second stage the critics skip instance norm and the history thresholds stored masks."
    t = trainer_for(tiny_config(model='aggan', ch=4, n_res=1, iteration=10, device='cpu'))
    strided = [m for m in t.nets['att_a'].modules() if isinstance(m, torch.nn.Conv2d) and m.stride == (2, 2)]
    assert len(strided) == 2
    a, b = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    t.train_step(a, b)
    assert t.pool_a.state().shape[1:] == (4, 64, 64)                    # each fake with its mask
    norms = []
    for mod in t.nets['disc_a'].modules():
        if isinstance(mod, torch.nn.InstanceNorm2d): mod.register_forward_hook(lambda *_: norms.append(1))
    t.score('disc_a', a); first = len(norms)
    t.step = 3                                                           # 30 % of 10: the second stage
    t.score('disc_a', a)
    assert first > 0 and len(norms) == first


def test_munit_networks_as_its_release():
    "The style encoder downsamples 4 times; the critics have no norm."
    nets = trainer_for(tiny_config(model='munit', ch=4, n_res=1, device='cpu')).nets
    strided = [m for m in nets['gen_a'].enc_style.modules() if isinstance(m, torch.nn.Conv2d) and m.stride == (2, 2)]
    assert len(strided) == 4
    assert not any(isinstance(m, (torch.nn.InstanceNorm2d, torch.nn.GroupNorm)) for m in nets['disc_a'].modules())


def test_cartoongan_blocks_as_its_paper():
    "Each down and up block: a strided (or transposed) convolution and a flat one, then one norm and one ReLU."
    gen = trainer_for(tiny_config(model='cartoongan', ch=4, n_res=1, device='cpu')).nets['gen_a2b']
    layers = [m for m in gen.model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d,
                                                               torch.nn.InstanceNorm2d, torch.nn.ReLU))]
    kinds = ['conv' if isinstance(m, torch.nn.Conv2d) and m.stride == (1, 1) else 'strided' if isinstance(m, torch.nn.Conv2d)
             else 'transposed' if isinstance(m, torch.nn.ConvTranspose2d) else type(m).__name__ for m in layers]
    assert kinds.count('transposed') == 2 and kinds.count('strided') == 2
    for i, k in enumerate(kinds):
        if k in ('strided', 'transposed'): assert kinds[i + 1:i + 4] == ['conv', 'InstanceNorm2d', 'ReLU'], (i, kinds)


def test_drit_networks_as_its_release():
    "The attribute joins the decoder 4 times (the residual stage, both up stages, the RGB layer); two image critics per domain."
    from ugatit_nb.drit import ATTR_DIM
    t = trainer_for(tiny_config(model='drit', ch=4, n_res=2, device='cpu'))
    dec = t.nets['dec_a']
    first_conv = lambda m: next(x for x in m.modules() if isinstance(x, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)))
    assert [first_conv(m).in_channels for m in (dec.blocks, dec.up1, dec.up2, dec.out)] == [16 + ATTR_DIM, 16 + 2 * ATTR_DIM, 8 + ATTR_DIM, 4 + ATTR_DIM]
    assert first_conv(dec.out).kernel_size == (1, 1)
    assert {'disc_a', 'disc_b', 'disc_rand_a', 'disc_rand_b'} <= set(t.critics)
    seen = {name: [] for name in ('disc_a', 'disc_rand_a')}
    for name in seen: t.nets[name].register_forward_hook(lambda mod, inp, out, name=name: seen[name].append(inp[0].shape[0]))
    t.train_step(torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1)
    assert seen == {'disc_a': [2, 2, 2], 'disc_rand_a': [2, 2, 2]}     # each critic: real and its own fakes, then the G step
