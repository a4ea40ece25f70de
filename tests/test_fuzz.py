"""Property-based fuzzing of what reads files a user hands over: a TF-release checkpoint index, a checkpoint for
`ugatit_nb.load`, and the bytes of an upload. Every example ends in success or in the package's own one-line error
(CheckpointError, BadImage, ValueError), never another exception, and the process's resident memory stays
within 1 GiB of what it was at the first example.
1000 examples per target, derandomized so CI sees the same examples each run."""
import io, resource, shutil
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from ugatit_nb.checkpoint import CheckpointError
from ugatit_nb.image import BadImage, rgb_from_bytes
from ugatit_nb.inference import load
from ugatit_nb.tf_format import TFCheckpoint
from ugatit_nb.tf_release import tf_config

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / 'tests' / 'data' / 'tf_release' / 'aug14_light_ch4_128'
EXAMPLES = settings(max_examples=1000, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
MEMORY_GROWTH = 1 << 30                    # what one example may add to this process's resident memory, bytes


def one_line(e: BaseException):
    text = str(e)
    assert text and '\n' not in text.strip(), f'{type(e).__name__} over several lines: {text[:300]!r}'


def resident() -> int:
    "This process's resident memory now, bytes (Linux)."
    return int(Path('/proc/self/statm').read_text().split()[1]) * resource.getpagesize()


START = []                                 # resident memory when the first example ran


def within_cap():
    if not START: START.append(resident())
    grown = resident() - START[0]
    assert grown < MEMORY_GROWTH, f'resident memory grew by {grown / 2**30:.2f} GiB during the fuzzing'


# ---------------------------------------------------------------- a TF checkpoint's index, mutated
INDEX = (FIXTURE / 'UGATIT.model-1.index').read_bytes()


@pytest.fixture(scope='module')
def tf_copy(tmp_path_factory):
    "A copy of the fixture whose index each example overwrites: its prefix."
    folder = tmp_path_factory.mktemp('tf')
    for f in FIXTURE.iterdir(): shutil.copy2(f, folder / f.name)
    return folder / 'UGATIT.model-1'


mutation = st.one_of(
    st.tuples(st.just('flip'), st.integers(0, 10**6), st.integers(1, 255)),       # one byte xor-ed
    st.tuples(st.just('cut'), st.integers(0, 10**6), st.just(0)),                  # truncated there
    st.tuples(st.just('insert'), st.integers(0, 10**6), st.integers(0, 255)),      # one byte inserted
    st.tuples(st.just('varint'), st.integers(0, 10**6), st.integers(128, 255)))    # a byte that says "more follows"


def mutate(data: bytes, edits) -> bytes:
    b = bytearray(data)
    for kind, pos, val in edits:
        pos %= max(len(b), 1)
        if kind == 'flip' and b: b[pos] ^= val
        elif kind == 'cut': del b[pos:]
        elif kind == 'insert': b[pos:pos] = bytes([val])
        elif kind == 'varint' and b: b[pos] = val
    return bytes(b)


@EXAMPLES
@given(edits=st.lists(mutation, min_size=1, max_size=4))
def test_a_mutated_tf_index_is_read_or_refused_in_one_line(tf_copy, edits):
    tf_copy.with_name(tf_copy.name + '.index').write_bytes(mutate(INDEX, edits))
    try:
        ck = TFCheckpoint(tf_copy)
        tf_config(ck)
        for name in ck.keys(): ck.read(name)                 # every declared tensor, CRC checked
    except CheckpointError as e: one_line(e)
    within_cap()


# ---------------------------------------------------------------- a checkpoint handed to ugatit_nb.load
FIELDS = ('model', 'light', 'ch', 'n_res', 'n_dis', 'img_size', 'img_ch', 'cam_g', 'cam_d', 'decoder_norm', 'networks',
          'iteration', 'lr', 'fuse_calls', 'amp', 'unknown_field')
NETS = ('gen_a2b', 'gen_b2a', 'disc_global_a', 'disc_global_b', 'disc_local_a', 'disc_local_b', 'genA2B', 'disc_a')
value = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True), st.text(max_size=12),
                  st.sampled_from(['ugatit', 'cyclegan', 'tf', 'adalin', 'bf16', 'pytorch']), st.lists(st.integers(), max_size=3))
tensor = st.builds(lambda shape, dt: torch.zeros(shape, dtype=dt),
                   st.lists(st.integers(0, 3), max_size=3).map(tuple), st.sampled_from([torch.float32, torch.float16, torch.int64]))
net = st.dictionaries(st.sampled_from(['weight', 'bias', 'to_rgb.conv.weight', 'encoder.stem.conv.weight', 'rho']), tensor, max_size=3)
checkpoint = st.fixed_dictionaries({}, optional={
    'format': st.one_of(st.just('ugatit_nb-1'), st.sampled_from(['ugatit_nb-1', 'ugatit_nb-0', '']), value),
    'step': st.one_of(st.integers(-5, 10**9), value),
    'config': st.one_of(st.dictionaries(st.sampled_from(FIELDS), value, max_size=8), value),
    'nets': st.one_of(st.dictionaries(st.sampled_from(NETS), st.one_of(net, value), max_size=6), value),
    'source': value})


@pytest.fixture(scope='module')
def scratch(tmp_path_factory): return tmp_path_factory.mktemp('ckpt') / 'model.pt'


@EXAMPLES
@given(state=checkpoint)
def test_any_checkpoint_dict_loads_or_is_refused_in_one_line(scratch, state):
    from ugatit_nb.checkpoint import CKPT_FORMAT
    if state.get('format') == 'ugatit_nb-1': state['format'] = CKPT_FORMAT   # the real tag, so the deeper checks run
    torch.save(state, scratch)
    try: load(scratch)
    except (CheckpointError, ValueError) as e: one_line(e)
    within_cap()


# ---------------------------------------------------------------- the bytes of an upload
def image_bytes(fmt: str, size=(24, 16)) -> bytes:
    buf = io.BytesIO()
    Image.new('RGB', size, (200, 120, 40)).save(buf, fmt)
    return buf.getvalue()


SEEDS = [image_bytes(f) for f in ('PNG', 'JPEG', 'GIF', 'BMP', 'WEBP', 'TIFF')]


@EXAMPLES
@given(data=st.one_of(st.binary(max_size=4096),
                      st.builds(mutate, st.sampled_from(SEEDS), st.lists(mutation, min_size=1, max_size=3))))
def test_any_upload_is_an_image_or_one_line(data):
    try:
        img = rgb_from_bytes(data, 'upload.png')
        assert img.mode == 'RGB' and img.width * img.height > 0
    except BadImage as e: one_line(e)
    within_cap()
