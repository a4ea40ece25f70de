"""Files and arguments that cannot crash a command: an output path that cannot be written is refused before the work,
argument ranges when parsed, a file that is not an image in one line, and a large 16-bit PNG read with memory in
proportion to the 8-bit image it becomes."""
import os, subprocess, sys

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow   # each check starts a console script as a process

HOME = {'eval_cli': 'ugatit_nb.evaluate', 'demo': 'ugatit_nb.translator', 'train_cli': 'ugatit_nb.cli'}   # console scripts


def run(*args, module=None, func='eval_cli'):
    module = module or HOME[func]
    return subprocess.run([sys.executable, '-c', f'from {module} import {func}; {func}()', *map(str, args)],
                          capture_output=True, text=True, env={**os.environ, 'MPLBACKEND': 'Agg'}, timeout=600)


def one_line(r, *words, code=1):
    assert r.returncode == code and 'Traceback' not in r.stderr, r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip() and not l.startswith('usage:') and not l.startswith('  ')]
    assert len(lines) == 1, r.stderr
    for w in words: assert w in lines[0], lines[0]


def test_eval_json_that_cannot_be_written_is_refused_before_the_evaluation(tmp_path):
    (tmp_path / 'notes.txt').write_text('a file')
    for target, why in ((tmp_path / 'notes.txt' / 'eval.json', 'is a file, not a folder'), (tmp_path, 'is a folder')):
        r = run('faces2anime', '--json', target)
        one_line(r, str(target), why)
        assert 'evaluated in' not in r.stdout                               # no minutes of work thrown away


def test_export_batch_must_be_a_positive_count(tmp_path):
    for bad in ('-3', '0', 'two'):
        r = run('faces2anime', '--onnx', tmp_path / 'a.onnx', '--batch', bad, module='ugatit_nb.export', func='export_cli')
        one_line(r, 'argument --batch', code=2)
    assert not (tmp_path / 'a.onnx').exists()


def test_demo_says_what_is_wrong_with_its_files(tmp_path):
    notes = tmp_path / 'notes.png'
    notes.write_text('not an image')
    one_line(run('--image', notes, '--out', tmp_path / 'x.png', func='demo'), 'notes.png: not an image file')
    (tmp_path / 'file').write_text('a file')
    one_line(run('--out', tmp_path / 'file' / 'x.png', func='demo'), 'cannot write there')


def test_training_arguments_out_of_range_are_refused_when_parsed(tmp_path):
    for args, message in ((['--sample_n', '0'], 'sample_n must be at least 1'),
                          (['--img_ch', '1'], 'img_ch must be 3'), (['--eval_freq', '-5'], 'eval_freq must be 0 or more'),
                          (['--networks', 'keras'], 'networks')):
        r = run('--preset', 'tiny', '--result_dir', tmp_path, *args, func='train_cli')
        assert r.returncode != 0 and 'Traceback' not in r.stderr and message in r.stderr, r.stderr
        assert not (tmp_path / 'faces2anime').exists()                     # refused before anything was made


def test_a_large_16_bit_png_is_read_with_memory_in_proportion_to_its_pixels(tmp_path):
    side = 8000
    grey = (np.arange(side * side, dtype=np.uint32) % 65536).astype(np.uint16).reshape(side, side)
    Image.fromarray(grey).save(tmp_path / 'grey16.png')                     # ~0.6 MB on disk, 64 Mpx
    del grey
    code = ('import resource, ugatit_nb.data as D\n'
            'before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n'
            f'img = D.load_rgb({str(tmp_path / "grey16.png")!r})\n'
            'print(img.mode, img.size[0], img.getpixel((257, 0))[0], (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)')
    mode, width, pixel, grown = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()
    assert (mode, int(width), int(pixel)) == ('RGB', side, 1)              # 257/65535 of the range → 1 of 255
    kept = side * side * 3                                                  # the 8-bit RGB image it returns
    assert int(grown) < 3.2 * kept, f'{int(grown) / 2**20:.0f} MiB for a {kept / 2**20:.0f} MiB image'


def test_a_checkpoint_whose_config_disagrees_with_its_weights_is_one_line_everywhere(tmp_path):
    import torch
    from ugatit_nb.checkpoint import read_checkpoint
    from ugatit_nb.inference import pretrained_dir
    state = read_checkpoint(pretrained_dir() / 'model.pt')
    cases = {'wrong_ch.pt': ({**state, 'config': {**state['config'], 'ch': 32}}, 'do not fit its config'),
             'huge.pt': ({**state, 'config': {**state['config'], 'img_size': 1024, 'light': False}}, 'do not fit its config'),
             'beyond.pt': ({**state, 'config': {**state['config'], 'img_size': 2048}}, 'from 8 to 1024, got 2048'),
             'typed.pt': ({**state, 'config': {**state['config'], 'ch': '16'}}, "config field ch='16' should be a int"),
             'no_nets.pt': ({k: v for k, v in state.items() if k != 'nets'}, 'no networks in this checkpoint')}
    for name, (bad, message) in cases.items():
        torch.save(bad, tmp_path / name)
        for r in (run(tmp_path / name),                                     # ugatit_nb_eval: before 68 GB are allocated
                  run(tmp_path / name, '--onnx', tmp_path / 'a.onnx', module='ugatit_nb.export', func='export_cli'),
                  run('--checkpoint', tmp_path / name, '--out', tmp_path / 'demo.png', func='demo')):
            one_line(r, name, message)
    newer = {**state, 'config': {**state['config'], 'a_field_from_a_newer_version': 1}}
    torch.save(newer, tmp_path / 'newer.pt')
    r = run('--checkpoint', tmp_path / 'newer.pt', '--out', tmp_path / 'demo.png', func='demo')
    assert r.returncode == 0 and 'ignoring config fields this version does not know: a_field_from_a_newer_version' in r.stderr
