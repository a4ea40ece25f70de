"""`ugatit_nb_serve` as a user starts it: it answers a photo with a PNG, names a bad upload, refuses another Host name,
and a taken port is one line."""
import io, re, os, signal, subprocess, sys, time, urllib.error, urllib.request
from contextlib import contextmanager

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


@contextmanager
def api(*args):
    "`ugatit_nb_serve` on a free port with `args`, answering /health: (base URL, port); stopped afterwards."
    port = free_port()
    server = subprocess.Popen([sys.executable, '-c', 'from ugatit_nb.serve import serve_cli; serve_cli()', '--port', str(port),
                               *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, text=True)
    base = f'http://127.0.0.1:{port}'
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if request(base + '/health')[0] == 200: break
            except OSError: time.sleep(0.5)
        yield base, port
    finally:
        os.killpg(server.pid, signal.SIGTERM); server.wait(timeout=30)


def test_the_web_api_serves_a_photo(tmp_path):
    from skimage import data as photos
    with api() as (base, port):
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


def test_uploads_arriving_at_once_are_bounded_and_a_slow_one_holds_no_translation_slot(tmp_path):
    import socket
    with api('--uploads', '1', '--queue', '0') as (base, port):
        slow = socket.create_connection(('127.0.0.1', port))      # 10 MB announced, 2 MB sent, then it waits
        slow.sendall(b'POST /translate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10000000\r\n\r\n' + b'\0' * 2_000_000)
        deadline = time.time() + 30
        while request(base + '/health')[2].find(b'"arriving":1') < 0 and time.time() < deadline: time.sleep(0.2)
        status, headers, body = request(base + '/translate', b'x' * 1000)
        assert status == 503 and b'1 uploads are arriving already' in body and headers['Retry-After'] == '2', (status, body)
        slow.close()                                                # gone: its place is free again, nothing leaks
        deadline = time.time() + 30
        while request(base + '/health')[2].find(b'"arriving":0') < 0 and time.time() < deadline: time.sleep(0.2)
        status, _, body = request(base + '/translate', b'%PDF-1.4 not an image')
        assert status == 422 and b'not an image file' in body        # admitted, read, refused for what it is


def test_an_upload_decodes_from_a_spooled_file_as_from_bytes():
    import tempfile
    from ugatit_nb.image import BadImage, rgb_from_bytes
    buf = io.BytesIO(); Image.new('RGB', (40, 30), (200, 10, 10)).save(buf, format='PNG')
    with tempfile.SpooledTemporaryFile(16) as f:                    # 16 bytes in memory: the rest is on disk
        f.write(buf.getvalue())
        assert rgb_from_bytes(f).size == rgb_from_bytes(buf.getvalue()).size == (40, 30)
    with tempfile.SpooledTemporaryFile(16) as f:
        f.write(os.urandom(100_000))
        with pytest.raises(BadImage, match='upload: not an image file'): rgb_from_bytes(f)
    with pytest.raises(BadImage, match='upload: empty file'): rgb_from_bytes(io.BytesIO())


def test_a_form_upload_is_told_to_send_the_bytes(tmp_path):
    with api() as (base, port):
        body = b'--xx\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\nJPEG\r\n--xx--\r\n'
        req = urllib.request.Request(base + '/translate', data=body, method='POST',
                                     headers={'Content-Type': 'multipart/form-data; boundary=xx'})
        try: urllib.request.urlopen(req, timeout=60); status, text = 200, b''
        except urllib.error.HTTPError as e: status, text = e.code, e.read()
        assert status == 415 and b'--data-binary' in text, (status, text)
