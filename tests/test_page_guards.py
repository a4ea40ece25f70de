"""The Selfie 2 Waifu page in front of the public: a Host that is not this machine is refused (no DNS rebinding), kernel
websockets must speak the v1 protocol (a legacy client's binary frames froze the server), kernels are capped and idle
ones culled, and a taken port is an error rather than a banner with the wrong address."""
import os, re, signal, socket, subprocess, sys, time, urllib.error, urllib.request
from pathlib import Path

import pytest

from browser import free_port

pytestmark = pytest.mark.slow   # servers and a browser


def get(url, host=None, timeout=120):
    req = urllib.request.Request(url, headers={'Host': host} if host else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r: return r.status, r.read().decode()
    except urllib.error.HTTPError as e: return e.code, e.read().decode(errors='replace')


def kernels(server_pid: int) -> int:
    "ipykernel processes below the server."
    out = subprocess.run(['ps', '-eo', 'pid,ppid,args'], capture_output=True, text=True).stdout.splitlines()[1:]
    rows = [l.split(None, 2) for l in out]
    tree, frontier = {server_pid}, {server_pid}
    while frontier:
        frontier = {int(p) for p, pp, _ in rows if int(pp) in frontier} - tree
        tree |= frontier
    return sum(1 for p, _, a in rows if int(p) in tree and 'ipykernel' in a)


@pytest.fixture
def page(tmp_path):
    port = free_port()
    log = open(tmp_path / 'app.log', 'w')
    server = subprocess.Popen([sys.executable, '-c', 'from ugatit_nb.app import app_cli; app_cli()', '--port', str(port),
                               '--max_visitors', '2', '--idle_minutes', '1'], stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True, env={**os.environ, 'MPLBACKEND': 'Agg'})
    base = f'http://127.0.0.1:{port}/'
    try:
        deadline = time.time() + 120
        while True:
            with socket.socket() as s:
                if s.connect_ex(('127.0.0.1', port)) == 0: break
            if server.poll() is not None or time.time() > deadline:
                raise RuntimeError('the app did not start:\n' + (tmp_path / 'app.log').read_text()[-3000:])
            time.sleep(0.3)
        yield base, port, server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try: server.wait(timeout=20)
        except subprocess.TimeoutExpired: os.killpg(server.pid, signal.SIGKILL); server.wait()
        log.close()


def test_the_page_guards_itself(page):
    import websocket
    base, port, server = page
    assert get(base, host=f'evil.example:{port}')[0] == 403              # DNS rebinding: another name for this address
    status, html = get(base)
    assert status == 200
    kernel = re.search(r'"kernelId":\s*"([0-9a-f-]+)"', html).group(1)
    url = f'ws://127.0.0.1:{port}/api/kernels/{kernel}/channels'
    with pytest.raises(websocket.WebSocketBadStatusException):             # legacy protocol: refused at the handshake
        websocket.create_connection(url, timeout=20)
    ws = websocket.create_connection(url, subprotocols=['v1.kernel.websocket.jupyter.org'], timeout=20)
    assert ws.getsubprotocol() == 'v1.kernel.websocket.jupyter.org'; ws.close()
    deadline = time.time() + 20                                            # the tab closed: its kernel stops in seconds,
    while kernels(server.pid) and time.time() < deadline: time.sleep(0.5)  # long before the 60 s idle cull
    assert kernels(server.pid) == 0
    for _ in range(12):                                                    # 12 visits in a row, each tab closed before
        status, html = get(base)                                           # the next: each is served with 2 places
        assert status == 200, html[:300]
        kernel = re.search(r'"kernelId":\s*"([0-9a-f-]+)"', html).group(1)
        websocket.create_connection(f'ws://127.0.0.1:{port}/api/kernels/{kernel}/channels',
                                    subprotocols=['v1.kernel.websocket.jupyter.org'], timeout=20).close()
        time.sleep(0.5)                                                    # the visitor closes the tab, then comes back
    deadline = time.time() + 20
    while kernels(server.pid) and time.time() < deadline: time.sleep(0.5)
    assert kernels(server.pid) == 0
    assert [get(base)[0] for _ in range(2)] == [200, 200] and kernels(server.pid) == 2   # two pages left open: two kernels
    status, text = get(base)
    assert status == 503 and 'has 2 visitors already' in text and kernels(server.pid) == 2   # the third is told why
    deadline = time.time() + 150                                           # pages that never connect: culled when idle
    while kernels(server.pid) and time.time() < deadline: time.sleep(1)
    assert kernels(server.pid) == 0
    import threading                                                       # a burst: the cap holds while kernels start
    codes = []
    burst = [threading.Thread(target=lambda: codes.append(get(base)[0])) for _ in range(6)]
    for t in burst: t.start()
    for t in burst: t.join()
    assert sorted(codes) == [200, 200, 503, 503, 503, 503] and kernels(server.pid) <= 2, (codes, kernels(server.pid))


def test_a_taken_port_is_an_error_not_a_wrong_banner(tmp_path):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); s.listen(); port = s.getsockname()[1]
        r = subprocess.run([sys.executable, '-c', 'from ugatit_nb.app import app_cli; app_cli()', '--port', str(port)],
                           capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and f'error: port {port} on 127.0.0.1 is not available' in r.stderr
    assert 'Selfie 2 Waifu: http' not in r.stdout


def test_the_page_leaves_no_kernel_connection_files(tmp_path):
    "Kernel connection files (their ports and keys) live in the page's own temporary folder and go when it stops."
    from jupyter_core.paths import jupyter_runtime_dir
    shared = Path(jupyter_runtime_dir())
    before = set(shared.glob('kernel-*.json')) if shared.exists() else set()
    port = free_port()
    server = subprocess.Popen([sys.executable, '-c', 'from ugatit_nb.app import app_cli; app_cli()', '--port', str(port),
                               '--max_visitors', '1'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True, env={**os.environ, 'MPLBACKEND': 'Agg'})
    try:
        deadline = time.time() + 120
        while True:
            with socket.socket() as s:
                if s.connect_ex(('127.0.0.1', port)) == 0: break
            assert server.poll() is None and time.time() < deadline, 'the app did not start'
            time.sleep(0.3)
        status, html = get(f'http://127.0.0.1:{port}/')
        assert status == 200 and kernels(server.pid) == 1                 # a visitor's kernel, with its connection file
    finally:
        os.killpg(server.pid, signal.SIGTERM); server.wait(timeout=30)
    after = set(shared.glob('kernel-*.json')) if shared.exists() else set()
    assert after == before, sorted(after - before)                         # none written where they would stay
