"""Outputs that are not regular files are refused before any work and left as they were; architecture fields are
bounded where they are parsed and where a model is loaded; a compared method exports and draws without a heatmap."""
import os, stat, subprocess, sys
from pathlib import Path

import pytest
import torch

from ugatit_nb.checkpoint import CheckpointError
from ugatit_nb.methods import trainer_for
from ugatit_nb.config import tiny_config
from ugatit_nb.inference import Model, build_networks, load

REPO = Path(__file__).resolve().parents[1]
TF = REPO / 'tests' / 'data' / 'tf_release' / 'aug14_light_ch4_128'


def cli(module, func, *args):
    return subprocess.run([sys.executable, '-c', f'from {module} import {func}; {func}()', *map(str, args)],
                          capture_output=True, text=True, env={**os.environ, 'MPLBACKEND': 'Agg'}, timeout=600)


def one_line(r, *words, code=1):
    assert r.returncode == code and 'Traceback' not in r.stderr, r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip() and not l.startswith(('usage:', '  '))]
    assert len(lines) == 1, r.stderr
    for w in words: assert w in lines[0], lines[0]


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / 'pipe'
    os.mkfifo(path)
    yield path
    assert stat.S_ISFIFO(path.stat().st_mode), 'the FIFO was replaced'


def test_saving_onto_a_fifo_is_refused_and_leaves_it(fifo):
    model = Model(tiny_config(ch=4, n_res=1), build_networks(tiny_config(ch=4, n_res=1)))
    with pytest.raises(CheckpointError, match='exists and is not a regular file'): model.save(fifo)


@pytest.mark.slow
def test_every_command_refuses_a_device_or_fifo_as_output_before_the_work(fifo, tmp_path):
    one_line(cli('ugatit_nb.tf_release', 'convert_cli', TF, '--out', fifo, '--img_size', '128'), str(fifo), 'not a regular file')
    one_line(cli('ugatit_nb.evaluate', 'eval_cli', 'faces2anime', '--json', fifo), 'not a regular file')
    one_line(cli('ugatit_nb.translator', 'demo', '--out', fifo), 'not a regular file')
    one_line(cli('ugatit_nb.export', 'export_cli', 'faces2anime', '--onnx', fifo), 'not a regular file')
    if os.path.exists('/dev/full'):                          # a device node: still one after the refusal
        one_line(cli('ugatit_nb.tf_release', 'convert_cli', TF, '--out', '/dev/full', '--img_size', '128'), 'not a regular file')
        assert stat.S_ISCHR(os.stat('/dev/full').st_mode)


@pytest.mark.slow
def test_img_size_is_bounded_where_it_is_parsed_and_where_it_is_loaded(tmp_path):
    for bad in ('0', '-4', '130', '1000000'):
        one_line(cli('ugatit_nb.tf_release', 'convert_cli', TF, '--out', tmp_path / 'm.pt', '--img_size', bad),
                 'argument --img_size', code=2)
    assert not (tmp_path / 'm.pt').exists()
    model = Model(tiny_config(ch=4, n_res=1), build_networks(tiny_config(ch=4, n_res=1)))
    path = model.save(tmp_path / 'ok.pt')
    state = torch.load(path, weights_only=True)
    state['config']['img_size'] = 65536                     # a light model runs at any size: the file says this one
    torch.save(state, tmp_path / 'huge.pt')
    with pytest.raises(CheckpointError, match='img_size must be a multiple of 4 from 8 to 1024, got 65536'):
        load(tmp_path / 'huge.pt')
    one_line(cli('ugatit_nb.translator', 'demo', '--checkpoint', tmp_path / 'huge.pt', '--out', tmp_path / 'x.png'), 'got 65536')


@pytest.mark.slow
def test_a_compared_method_exports_and_draws_without_a_heatmap(tmp_path):
    torch.manual_seed(0)
    ck = trainer_for(tiny_config(model='cyclegan', ch=4, n_res=1, device='cpu')).save_weights(tmp_path / 'cyclegan.pt')
    r = cli('ugatit_nb.export', 'export_cli', ck, '--onnx', tmp_path / 'c.onnx')
    assert r.returncode == 0, r.stderr
    from ugatit_nb.export import OnnxTranslator
    y, heat = OnnxTranslator(tmp_path / 'c.onnx')(torch.zeros(1, 3, 64, 64).numpy())
    assert y.shape == (1, 3, 64, 64) and heat is None
    r = cli('ugatit_nb.translator', 'demo', '--checkpoint', ck, '--out', tmp_path / 'demo')
    assert r.returncode == 0 and f'wrote {tmp_path / "demo"}' in r.stdout, r.stderr
    assert (tmp_path / 'demo').read_bytes()[:4] == b'\x89PNG'      # the file it names, a PNG


def test_the_page_and_api_name_a_checkpoint_by_its_file_not_its_server_path(tmp_path):
    from ugatit_nb.translator import Translator
    folder = tmp_path / 'private' / 'models'
    path = Model(tiny_config(ch=4, n_res=1), build_networks(tiny_config(ch=4, n_res=1))).save(folder / 'mine.pt')
    t = Translator(path)
    assert 'mine.pt' in t.name and str(folder) not in t.name and 'private' not in t.name + t.about, t.name


def test_a_pickle_that_would_run_code_is_refused_in_one_line(tmp_path):
    class Evil:
        def __reduce__(self): return (os.system, ('echo ran > ' + str(tmp_path / 'ran'),))
    torch.save({'format': 'x', 'payload': Evil()}, tmp_path / 'evil.pt')
    with pytest.raises(CheckpointError) as e: load(tmp_path / 'evil.pt')
    assert '\n' not in str(e.value) and 'weights_only' not in str(e.value) and 'could run code' in str(e.value)
    assert not (tmp_path / 'ran').exists()


def test_install_hints_from_a_clone_say_how_a_clone_installs_an_extra():
    from ugatit_nb.image import install_hint
    assert (REPO / 'settings.ini').is_file()                # these tests run from the clone, installed editable
    assert install_hint('faces') == 'pip install -e ".[faces]" in the ugatit_nb clone'
