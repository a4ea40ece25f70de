"""The Selfie 2 Waifu page end to end: `ugatit_nb_app` serves it with Voilà on 127.0.0.1, Debian's chromium (Playwright)
uploads a real photograph, the translated result appears and differs from the photo, a bad file gives a message in
the page. Screenshot: build/browser/selfie2waifu.png (or $UGATIT_ARTIFACTS/selfie2waifu.png). With $UGATIT_APP_PYTHON the
page runs on that interpreter (e.g. a venv with only the README's `pip install -e ".[faces]"`)."""
import io, os, signal, subprocess, sys, time, urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from browser import ARTIFACTS, free_port, launch, needs_browser, sync_playwright

pytestmark = [needs_browser, pytest.mark.slow]   # a browser against a served page
PANEL = 192                                     # Selfie2Waifu's default panel side


@pytest.fixture
def app(tmp_path, request):
    "ugatit_nb_app on a free port (extra arguments: the test's `app_args` mark); stopped (its whole process group) afterwards."
    port = free_port()
    log = open(tmp_path / 'app.log', 'w')
    mark = request.node.get_closest_marker('app_args')
    extra = [str(a) for a in (mark.kwargs['make'](tmp_path) if mark else [])]
    python = os.environ.get('UGATIT_APP_PYTHON', sys.executable)   # another install's interpreter: its extras alone
    server = subprocess.Popen([python, '-c', 'from ugatit_nb.app import app_cli; app_cli()', '--port', str(port), *extra],
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                              env={**os.environ, 'MPLBACKEND': 'Agg'})
    base = f'http://127.0.0.1:{port}/'
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(base, timeout=60) as r:
                    if r.status == 200: break
            except OSError: pass
            if server.poll() is not None or time.time() > deadline:
                raise RuntimeError('the app did not start:\n' + (tmp_path / 'app.log').read_text()[-3000:])
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try: server.wait(timeout=20)
        except subprocess.TimeoutExpired: os.killpg(server.pid, signal.SIGKILL); server.wait()
        log.close()


def test_a_photo_becomes_an_anime_face_in_the_page(app, tmp_path):
    from skimage import data as photos
    photo = tmp_path / 'astronaut.png'
    Image.fromarray(photos.astronaut()).save(photo)
    (tmp_path / 'notes.txt').write_text('not an image')
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        ctx = launch(p, tmp_path / 'profile', viewport={'width': 1100, 'height': 800})
        try:
            page = ctx.new_page()
            outside = []                                         # the page works offline: every request stays on this server
            page.on('request', lambda r: None if r.url.startswith((app, 'data:', 'blob:')) else outside.append(r.url))
            page.goto(app, wait_until='load', timeout=120_000)
            upload = page.locator('.widget-upload')              # ipywidgets' FileUpload button
            upload.wait_for(state='visible', timeout=120_000)
            assert 'Selfie 2 Waifu' in page.inner_text('body')
            assert 'not-app' not in page.content() and 'Reading an upload' not in page.inner_text('body')
            def send(path):
                with page.expect_file_chooser() as chooser: upload.click()
                chooser.value.set_files(str(path))
            send(photo)
            page.wait_for_function("() => document.body.innerText.includes('translation 1')", timeout=120_000)
            assert 'face found and centred' in page.inner_text('body')
            result = page.locator('img').last
            result.wait_for(state='visible')
            assert result.evaluate('e => e.naturalWidth') == 4 * PANEL + 3 * 8
            shot = Image.open(io.BytesIO(result.screenshot())).convert('RGB')
            scale = shot.size[0] / (4 * PANEL + 3 * 8)
            panel = lambda i: np.asarray(shot.crop((round(i * (PANEL + 8) * scale), 0,
                                                    round((i * (PANEL + 8) + PANEL) * scale), shot.size[1])), dtype=float)
            crop, translation = panel(1), panel(2)
            assert translation.std() > 10                                    # an image, not a blank panel
            assert np.abs(translation - crop).mean() > 10                    # and not the photo handed back
            page.screenshot(path=str(ARTIFACTS / 'selfie2waifu.png'), full_page=True)
            send(tmp_path / 'notes.txt')
            page.wait_for_function("() => document.body.innerText.includes('Could not use notes.txt')", timeout=60_000)
            assert 'Traceback' not in page.inner_text('body')
            assert not outside, outside[:3]
        finally:
            ctx.close()


def _converted_tf_fixture(tmp_path):
    "The TF release's 2019-08-14 fixture (light, 128 px), converted with ugatit_nb_convert: what a user serves."
    from ugatit_nb.tf_release import convert_cli
    out = tmp_path / 'tf_model.pt'
    convert_cli([str(Path(__file__).parent / 'data' / 'tf_release' / 'aug14_light_ch4_128'), '--out', str(out), '--img_size', '128'])
    return ['--checkpoint', out]


@pytest.mark.app_args(make=_converted_tf_fixture)
def test_the_page_serves_a_converted_tf_model(app, tmp_path):
    from skimage import data as photos
    photo = tmp_path / 'astronaut_mirrored.png'
    Image.fromarray(photos.astronaut()[:, ::-1].copy()).save(photo)
    with sync_playwright() as p:
        ctx = launch(p, tmp_path / 'profile', viewport={'width': 1100, 'height': 800})
        try:
            page = ctx.new_page()
            page.goto(app, wait_until='load', timeout=120_000)
            upload = page.locator('.widget-upload')
            upload.wait_for(state='visible', timeout=120_000)
            text = page.inner_text('body')
            assert 'TF release networks, 2019-08-14 code' in text and '128 px' in text     # the page says what it serves
            with page.expect_file_chooser() as chooser: upload.click()
            chooser.value.set_files(str(photo))
            page.wait_for_function("() => document.body.innerText.includes('translation 1')", timeout=120_000)
            result = page.locator('img').last
            result.wait_for(state='visible')
            assert result.evaluate('e => e.naturalWidth') == 4 * PANEL + 3 * 8
            assert 'Traceback' not in page.inner_text('body')
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / 'selfie2waifu_tf.png'), full_page=True)
        finally:
            ctx.close()
