"""The TensorFlow release's model: its own checkpoints (tests/data/tf_release, written by the release's unmodified code
with the outputs it computed) convert and reproduce those outputs; the command line converts and names every problem in
one line; a converted model loads, translates, and exports to ONNX with the same numbers."""
import shutil
import subprocess, sys
from pathlib import Path

import numpy as np
import pytest
import torch

import ugatit_nb
from ugatit_nb.tf_format import TFCheckpoint, write_tf_checkpoint
from ugatit_nb.tf_release import compare_with_reference, within_tolerance

FIXTURES = Path(__file__).parent / 'data' / 'tf_release'
CASES = ['head_full_ch4_128', 'aug14_light_ch4_128']


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, '-c', 'from ugatit_nb.tf_release import convert_cli; convert_cli()', *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize('case', CASES)
def test_conversion_reproduces_the_tf_release_outputs(case, tmp_path):
    "Images and CAM logits within 5e-5, critic logits within 1e-5, heatmaps within 1e-4 relative: after a round trip through the file."
    r = cli(FIXTURES / case, '--out', tmp_path / 'model.pt', *(['--img_size', '128'] if 'light' in case else []))
    assert r.returncode == 0, r.stderr
    assert 'wrote' in r.stdout and 'TF release networks' in r.stdout
    model = ugatit_nb.load(tmp_path / 'model.pt')
    diff = compare_with_reference(model.nets, dict(np.load(FIXTURES / case / 'ref.npz')))
    assert within_tolerance(diff) == [], diff
    assert len(diff) == 12 + ('heat' in str(diff))


def test_half_precision_file_is_half_the_size_and_translates_alike(tmp_path):
    full, half = tmp_path / 'full.pt', tmp_path / 'half.pt'
    for out, extra in ((full, []), (half, ['--half'])):
        assert cli(FIXTURES / 'head_full_ch4_128', '--out', out, *extra).returncode == 0
    assert half.stat().st_size < 0.6 * full.stat().st_size
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    a, b = (ugatit_nb.load(p).translate(x)[0] for p in (full, half))
    assert (a - b).abs().max() < 2e-2


def test_load_reads_a_tf_checkpoint_folder_directly(tmp_path):
    model = ugatit_nb.load(FIXTURES / 'aug14_light_ch4_128')
    assert model.config.networks == 'tf-2019-08-14' and model.config.light and model.config.img_size == 256
    assert cli(FIXTURES / 'aug14_light_ch4_128', '--out', tmp_path / 'm.pt', '--img_size', '128').returncode == 0
    assert ugatit_nb.load(tmp_path / 'm.pt').config.img_size == 128       # a light model's size, as given
    assert 'TF release networks' in repr(model)


def _copy(tmp_path, case='head_full_ch4_128'):
    d = tmp_path / 'ckpt'
    d.mkdir()
    for f in (FIXTURES / case).glob('UGATIT.model-1.*'): (d / f.name).write_bytes(f.read_bytes())
    return d


def _one_line_error(r, *words):
    assert r.returncode != 0 and 'Traceback' not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), r.stderr
    for w in words: assert w in lines[0], lines[0]


@pytest.mark.slow                                    # writes and reads a dozen checkpoints
def test_every_damaged_checkpoint_is_one_line(tmp_path):
    d = _copy(tmp_path)
    data = d / 'UGATIT.model-1.data-00000-of-00001'
    ck = TFCheckpoint(d)
    e = ck.entry('generator_A/MLP/linear_0/dense/kernel')
    raw = bytearray(data.read_bytes())
    raw[e['offset'] + 17] ^= 0x40
    data.write_bytes(bytes(raw))
    _one_line_error(cli(d, '--out', tmp_path / 'm.pt'), 'generator_A/MLP/linear_0/dense/kernel', 'CRC', str(data))
    data.write_bytes(bytes(raw[: len(raw) // 2]))
    _one_line_error(cli(d, '--out', tmp_path / 'm.pt'), 'truncated data file', str(data))
    (d / 'UGATIT.model-1.index').write_bytes((d / 'UGATIT.model-1.index').read_bytes()[:-30])
    _one_line_error(cli(d, '--out', tmp_path / 'm.pt'), 'not a readable TensorFlow checkpoint index')
    _one_line_error(cli(tmp_path / 'nothing', '--out', tmp_path / 'm.pt'), 'no TensorFlow checkpoint here')
    (tmp_path / 'notes.txt').write_text('a file')
    _one_line_error(cli(d, '--out', tmp_path / 'notes.txt' / 'm.pt'), 'cannot write there', 'is a file, not a folder')
    _one_line_error(cli(FIXTURES / 'head_full_ch4_128', '--out', tmp_path / 'm.pt', '--img_size', '256'),
                    'a full model of 128 px')
    assert not (tmp_path / 'm.pt').exists()                           # nothing half-written


@pytest.mark.slow                                    # writes and reads a dozen checkpoints
def test_other_layouts_and_shapes_are_named(tmp_path):
    src = TFCheckpoint(FIXTURES / 'head_full_ch4_128')
    variables = {k: src.read(k) for k in src.keys()}
    def run(tensors):
        d = tmp_path / f'case{len(list(tmp_path.iterdir()))}'
        write_tf_checkpoint(d / 'UGATIT.model-5', tensors)
        return cli(d, '--out', tmp_path / 'm.pt')
    slots = {f'{k}/Adam': v for k, v in variables.items()} | {'beta1_power': np.float32(0.5)}
    assert run(variables | slots).returncode == 0                     # optimizer slots are skipped
    _one_line_error(run({k: v for k, v in variables.items() if not k.startswith('discriminator_B')}),
                    'not a U-GAT-IT checkpoint of the TF release', 'discriminator_B')
    _one_line_error(run({k: v for k, v in variables.items() if k != 'discriminator_B/local/conv_1/u'}),
                    "missing variable 'discriminator_B/local/conv_1/u'")
    _one_line_error(run(variables | {'generator_A/conv_1x1/conv2d/kernel': np.zeros((1, 1, 32, 8), np.float32)}),
                    "'generator_A/conv_1x1/conv2d/kernel' has shape [1, 1, 32, 8]")
    _one_line_error(run({'some/other/model/kernel': np.zeros(3, np.float32)}), 'not a U-GAT-IT checkpoint')


def test_rho_of_the_old_code_gives_a_warning(tmp_path):
    src = TFCheckpoint(FIXTURES / 'aug14_light_ch4_128')
    variables = {k: (np.minimum(src.read(k), 0.85) if k.endswith('rho') else src.read(k)) for k in src.keys()}
    write_tf_checkpoint(tmp_path / 'old' / 'UGATIT.model-3', variables)
    r = cli(tmp_path / 'old', '--out', tmp_path / 'm.pt', '--img_size', '128')
    assert r.returncode == 0 and 'warning:' in r.stderr and '--smoothing False' in r.stderr
    assert cli(tmp_path / 'old', '--out', tmp_path / 'm2.pt', '--smoothing', 'False', '--img_size', '128').stderr == ''
    assert ugatit_nb.load(tmp_path / 'm2.pt').config.smoothing is False


def test_onnx_export_of_a_converted_model_matches_pytorch(tmp_path):
    pytest.importorskip('onnxruntime')
    from ugatit_nb.export import OnnxTranslator, export_onnx
    model = ugatit_nb.load(FIXTURES / 'head_full_ch4_128')
    for direction in ('A2B', 'B2A'):
        out = export_onnx(model, tmp_path / f'{direction}.onnx', direction)
        x = torch.rand(2, 3, 128, 128) * 2 - 1
        want, _, heat = model.translate(x, direction)
        got, got_heat = OnnxTranslator(out)(x.numpy())
        assert np.abs(got - want.numpy()).max() < 1e-4
        assert np.abs(got_heat - heat.numpy()).max() < 1e-4 * np.abs(heat.numpy()).max()


def test_tf_networks_are_not_trained(tmp_path):
    from ugatit_nb.train import UGATIT
    from ugatit_nb.config import tiny_config
    with pytest.raises(ValueError, match="networks='tf' are the TF release's"):
        UGATIT(tiny_config(networks='tf', n_res=4, result_dir=str(tmp_path)))


def test_a_light_checkpoint_needs_its_image_size_and_an_unpacked_archive_is_found_two_folders_down(tmp_path):
    r = cli(FIXTURES / 'aug14_light_ch4_128', '--out', tmp_path / 'm.pt')
    assert r.returncode == 1 and 'pass --img_size' in r.stderr and r.stderr.count('\n') == 1 and not (tmp_path / 'm.pt').exists()
    nested = tmp_path / 'ckpt' / 'checkpoint' / 'UGATIT_light'
    shutil.copytree(FIXTURES / 'aug14_light_ch4_128', nested)
    r = cli(tmp_path / 'ckpt', '--out', tmp_path / 'm.pt', '--img_size', '128')
    assert r.returncode == 0 and f'reading {nested / "UGATIT.model-1"}' in r.stdout, (r.stdout, r.stderr)
    shutil.copytree(FIXTURES / 'head_full_ch4_128', tmp_path / 'ckpt' / 'other')
    r = cli(tmp_path / 'ckpt', '--out', tmp_path / 'm2.pt')
    assert r.returncode == 1 and 'checkpoints in several folders' in r.stderr


def test_the_tf_format_module_needs_no_torch():
    r = subprocess.run([sys.executable, '-c', "import sys, ugatit_nb.tf_format; print('torch' in sys.modules)"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == 'False', (r.stdout, r.stderr)
