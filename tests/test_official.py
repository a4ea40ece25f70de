"""Reference-release checkpoints at the paper's full size: key inventory, outputs, round trip, errors."""
import re
from pathlib import Path

import pytest
import torch

from ugatit_nb.release_rebuild import Discriminator as ReleaseD, ResnetGenerator, release_networks
from ugatit_nb.discriminator import Discriminator
from ugatit_nb.generator import Generator
from ugatit_nb.pytorch_release import (RELEASE_NAMES, CheckpointError, discriminator_config, generator_config,
                                load_official, to_official)

INVENTORY = Path(__file__).resolve().parent / 'data' / 'official-pytorch-state-dict.txt'   # the release's state-dict keys and shapes


def test_rebuilt_release_matches_the_release_inventory():
    sections = re.split(r'^## ', INVENTORY.read_text(), flags=re.M)[1:]
    with torch.device('meta'):
        nets = [ResnetGenerator(3, 3, n_blocks=4), ResnetGenerator(3, 3, n_blocks=4, light=True),
                ReleaseD(3, 64, 7), ReleaseD(3, 64, 5)]
    for section, net in zip(sections, nets):
        expected = {l.split()[0]: l.split()[1] for l in section.splitlines()[1:] if l and not l.startswith('#')}
        got = {k: 'x'.join(map(str, v.shape)) for k, v in net.state_dict().items()}
        assert got == expected, section.splitlines()[0]



@pytest.fixture(scope='module')
def release_full(tmp_path_factory):
    "A full-size (256 px, ch 64) release checkpoint with random weights, written to disk as the release does."
    torch.manual_seed(0)
    nets = release_networks(ch=64, n_res=4, img_size=256, light=False)
    del nets['genB2A']
    x = torch.rand(1, 3, 256, 256) * 2 - 1
    for k in ('disGA', 'disLA'): nets[k](x)                          # move the spectral-norm u, v once
    path = tmp_path_factory.mktemp('release') / 'selfie2anime_params_0001000.pt'
    states = {k: m.state_dict() for k, m in nets.items()}
    states['genB2A'] = states['genA2B']     # shared storages are written once: 1.1 GB less to write and read
    torch.save(states, path)
    return nets, path


def test_full_size_outputs_match_the_release(release_full):
    nets, path = release_full
    ours = load_official(path)
    ckpt = torch.load(path, weights_only=True)
    x = torch.rand(1, 3, 256, 256) * 2 - 1
    for name in ('genA2B', 'disGA', 'disLB'):
        cls, cfg = (Generator, generator_config) if name.startswith('gen') else (Discriminator, discriminator_config)
        net = cls(**cfg(ckpt[name]))
        net.load_state_dict(ours[name])
        with torch.no_grad():
            for a, b in zip(nets[name].eval()(x), net.eval()(x)):
                assert (a - b).abs().max().item() <= 1e-5, name
        del net


def test_light_generator_matches_the_release():
    torch.manual_seed(1)
    nets = release_networks(ch=64, n_res=4, img_size=256, light=True)
    ours = load_official({k: m.state_dict() for k, m in nets.items()})
    cfg = generator_config(nets['genB2A'].state_dict())
    assert cfg == dict(in_ch=3, out_ch=3, ch=64, n_res=4, img_size=256, light=True)
    g = Generator(**cfg)
    g.load_state_dict(ours['genB2A'])
    x = torch.rand(2, 3, 256, 256) * 2 - 1
    with torch.no_grad():
        for a, b in zip(nets['genB2A'](x), g(x)): assert (a - b).abs().max().item() <= 1e-5


def test_round_trip_is_lossless_through_files(release_full, tmp_path):
    _, path = release_full
    back = to_official(load_official(path))
    torch.save(back, tmp_path / 'again.pt')
    original, again = torch.load(path, weights_only=True), torch.load(tmp_path / 'again.pt', weights_only=True)
    for name in RELEASE_NAMES:
        assert list(again[name]) == list(original[name])
        assert all(torch.equal(again[name][k], original[name][k]) for k in original[name])


def test_foreign_and_corrupt_files_are_clear_errors(tmp_path):
    (tmp_path / 'text.pt').write_text('not a checkpoint')
    with pytest.raises(CheckpointError, match='text.pt: not a readable PyTorch checkpoint'):
        load_official(tmp_path / 'text.pt')
    torch.save({'G': {}}, tmp_path / 'other.pt')
    with pytest.raises(CheckpointError, match=r"other.pt: expected a dict with genA2B.*found \['G'\]"):
        load_official(tmp_path / 'other.pt')
    with pytest.raises(FileNotFoundError, match='missing.pt'):
        load_official(tmp_path / 'missing.pt')


def test_code_in_a_checkpoint_is_never_run(tmp_path):
    class Payload:
        def __reduce__(self): return (exec, ("open(%r, 'w').write('ran')" % str(tmp_path / 'pwned'),))
    torch.save({'genA2B': Payload()}, tmp_path / 'evil.pt')
    with pytest.raises(CheckpointError, match='not a readable PyTorch checkpoint'):
        load_official(tmp_path / 'evil.pt')
    assert not (tmp_path / 'pwned').exists()
