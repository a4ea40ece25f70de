"""`ugatit_nb_serve` as a user starts it: it answers a photo with a PNG, names a bad upload, refuses another Host name,
and a taken port is one line."""
import io, re, os, signal, subprocess, sys, time, urllib.error, urllib.request

import pytest
from PIL import Image

from browser import free_port

pytestmark = pytest.mark.slow   # a server started from the shell

pytest.importorskip('fastapi')


def request(url, data=None, host=None):
    req = urllib.request.Request(url, data=data, method='POST' if data is not None else 'GET', headers={'Host': host} if host else {})
    try:
        with urllib.request.urlopen(req, timeout=120) as r: return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e: return e.code, e.headers, e.read()


def test_the_web_api_serves_a_photo(tmp_path):
    from skimage import data as photos
    port = free_port()
    server = subprocess.Popen([sys.executable, '-c', 'from ugatit_nb.serve import serve_cli; serve_cli()', '--port', str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, text=True)
    base = f'http://127.0.0.1:{port}'
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if request(base + '/health')[0] == 200: break
            except OSError: time.sleep(0.5)
        buf = io.BytesIO(); Image.fromarray(photos.astronaut()).save(buf, format='JPEG')
        status, headers, body = request(base + '/translate?direction=A2B', buf.getvalue())
        assert status == 200 and headers['content-type'] == 'image/png' and headers['X-Framing'] == 'face found and centred'
        assert re.fullmatch(r'eta: GAP \d\.\d\d, GMP \d\.\d\d', headers['X-Eta']), headers['X-Eta']   # not '?: GAP …'
        assert Image.open(io.BytesIO(body)).size == (64, 64)
        status, _, body = request(base + '/translate', b'%PDF-1.4 not an image')
        assert status == 422 and b'not an image file' in body
        assert request(base + '/health', host=f'evil.example:{port}')[0] == 400
        r = subprocess.run([sys.executable, '-c', 'from ugatit_nb.serve import serve_cli; serve_cli()', '--port', str(port)],
                           capture_output=True, text=True, timeout=60)                    # its port is taken now
        assert r.returncode == 1 and r.stderr.strip() == f'error: port {port} on 127.0.0.1 is in use: pass another --port'
    finally:
        os.killpg(server.pid, signal.SIGTERM); server.wait(timeout=30)
