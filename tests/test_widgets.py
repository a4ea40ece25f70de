"""The widgets' logic without a browser: values set as a user would, outputs observed."""
import io
from datetime import datetime, timezone
from pathlib import Path

import pytest
import torch
from PIL import Image

from ugatit_nb.release_rebuild import release_networks
from ugatit_nb.checkpoint import CheckpointError
from ugatit_nb.train import UGATIT, UGATITConfig
from ugatit_nb.widgets import AdaLINExplorer, AttentionInspector, VIEWS, as_model
from ugatit_nb.app import SelfieUpload

REPO = Path(__file__).resolve().parents[1]
TEST_A = REPO / 'data' / 'faces2anime' / 'testA'


@pytest.fixture(scope='module')
def model():
    return UGATIT(UGATITConfig(light=True, img_size=64, ch=8, n_res=1, n_dis=5, device='cpu'))


def test_every_control_redraws_the_image(model):
    ins = AttentionInspector(model, TEST_A)
    assert ins.index.max == 49 and len(ins.thumbs.children) == 8
    last = bytes(ins.image.value)
    for set_value in [lambda: setattr(ins.index, 'value', 7), lambda: setattr(ins.direction, 'value', 'B2A'),
                      *[(lambda v=v: setattr(ins.view, 'value', v)) for v in list(VIEWS)[1:]],
                      lambda: setattr(ins.opacity, 'value', 0.9), lambda: setattr(ins.cmap, 'value', 'gray')]:
        set_value()
        assert bytes(ins.image.value) != last, ins.info.value         # each change redraws something new
        last = bytes(ins.image.value)
    assert ins.redraws == 1 + 2 + (len(VIEWS) - 1) + 2
    assert 'image 7 (testA_0007.jpg), B2A, identity' in ins.info.value
    assert 'GAP' in ins.info.value and 'GMP' in ins.info.value
    button = ins.thumbs.children[0].children[1]
    button.click()                                           # a thumbnail's button selects its image
    assert ins.index.value == int(button.description) == 4


def test_inspection_does_not_disturb_training_state(model):
    u = model.nets['disc_global_a'].encoder.down1.conv.weight_u.clone()
    modes = {n: net.training for n, net in model.nets.items()}
    AttentionInspector(model, [TEST_A / 'testA_0000.jpg', Image.new('RGB', (80, 60)), torch.zeros(3, 32, 32)])
    assert torch.equal(u, model.nets['disc_global_a'].encoder.down1.conv.weight_u)   # no power iteration ran
    assert modes == {n: net.training for n, net in model.nets.items()}


def test_checkpoint_paths_are_accepted(tmp_path, model):
    model.bind_run(REPO / 'data' / 'faces2anime')
    ours = model.save_checkpoint(tmp_path / 'ours.pt')
    ins = AttentionInspector(ours, TEST_A)
    assert ins.model.config.ch == 8 and ins.image.value
    torch.manual_seed(0)
    rel = release_networks(ch=4, n_res=1, img_size=128, light=True)
    torch.save({k: m.state_dict() for k, m in rel.items()}, tmp_path / 'release.pt')
    m = as_model(tmp_path / 'release.pt')
    assert (m.config.ch, m.config.light, m.config.n_dis) == (4, True, 7)
    assert torch.equal(m.nets['gen_a2b'].cam.gap_fc.weight, rel['genA2B'].gap_fc.weight)
    (tmp_path / 'junk.pt').write_bytes(b'junk')
    with pytest.raises(CheckpointError, match='junk.pt: not a readable checkpoint'):
        as_model(tmp_path / 'junk.pt')
    with pytest.raises(CheckpointError, match='nope.pt: no such checkpoint file'):
        AttentionInspector(tmp_path / 'nope.pt')


def test_adalin_explorer_forces_and_restores(model):
    ex = AdaLINExplorer(model, TEST_A)
    assert len(ex.layers.options) == 2 * 1 + 2               # 1 AdaLIN block (2 norms) + 2 LIN
    ex.mode.value = 0.0
    changed_ln = ex.last_change
    ex.layers.value = ex.layers.options[:1]
    assert 0 < ex.last_change
    ex.mode.value = None
    assert ex.last_change == 0.0 and changed_ln > 0
    assert ex.chart.value[:4] == b'\x89PNG'


def test_uploads_good_and_bad(model):
    up = SelfieUpload(model)
    buf = io.BytesIO(); Image.new('RGBA', (500, 300), (10, 200, 30, 128)).save(buf, 'PNG')
    up.upload.value = ({'name': 'me.png', 'type': 'image/png', 'size': len(buf.getvalue()),
                        'content': memoryview(buf.getvalue()),
                        'last_modified': datetime.now(timezone.utc)},)   # what the front end sends
    assert up.result.value and 'me.png, selfie → anime' in up.message.value
    first = bytes(up.result.value)
    up.direction.value = 'B2A'                               # re-translates the last photo the other way
    assert bytes(up.result.value) != first
    for data, name, expected in [(b'hello', 'notes.txt', 'notes.txt: not an image file'),
                                 (buf.getvalue()[:300], 'half.png', 'half.png: unreadable image'),
                                 (b'', 'empty.jpg', 'empty.jpg: empty file'),
                                 (b'\0' * 26_000_000, 'huge.jpg', 'huge.jpg: 26 MB is too large')]:
        assert up.process(data, name) is False
        assert expected in up.message.value and 'Traceback' not in up.message.value


def test_the_widgets_open_on_the_shipped_model_and_an_untrained_one_is_one_argument_away():
    from ugatit_nb.shipped import pretrained
    shipped = pretrained('faces2anime')
    ins = AttentionInspector(images=TEST_A)
    assert ins.model.step == shipped.step > 0
    assert torch.equal(ins.model.nets['gen_a2b'].to_rgb.conv.weight, shipped.nets['gen_a2b'].to_rgb.conv.weight)
    assert AdaLINExplorer().model.step == SelfieUpload().model.step == shipped.step
    assert AttentionInspector('untrained', TEST_A).model.step == 0


def test_a_model_without_cam_is_inspected_and_says_so():
    plain = UGATIT(UGATITConfig(light=True, img_size=64, ch=8, n_res=1, n_dis=5, device='cpu', cam_g=False, cam_d=False))
    ins = AttentionInspector(plain, TEST_A)
    assert 'η: none (this network was built without CAM)' in ins.info.value
    ins.view.value = 'D global, real'
    assert 'η: none' in ins.info.value and ins.image.value
