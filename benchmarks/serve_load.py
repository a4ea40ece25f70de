"""Many people at once: N clients against `ugatit_nb_serve` on loopback for a bounded time, then a burst of visitors
against the Selfie 2 Waifu page. Prints latency (p50/p95), throughput, failed requests and the server's memory at the
start and the end; for the page, what each visitor got and the most kernels alive at once.

    python benchmarks/serve_load.py [--clients 8] [--seconds 120] [--burst 12] [--max_visitors 4]
    python benchmarks/serve_load.py --checkpoint selfie2anime.pt      # any model ugatit_nb_serve takes
    python benchmarks/serve_load.py --slow_uploads 40 --burst 0       # and 40 slow 24 MB uploads (2 MB/s) all along
"""
import argparse, io, os, signal, socket, subprocess, sys, threading, time, urllib.error, urllib.request

import numpy as np
from PIL import Image


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def tree(pid: int) -> list[int]:
    "`pid` and every process below it."
    rows = [l.split() for l in subprocess.run(['ps', '-eo', 'pid,ppid'], capture_output=True, text=True).stdout.splitlines()[1:]]
    found, frontier = {pid}, {pid}
    while frontier:
        frontier = {int(p) for p, pp in rows if int(pp) in frontier} - found
        found |= frontier
    return sorted(found)


def rss_mb(pid: int) -> float:
    "Resident memory of `pid` and its children, MB."
    total = 0
    for p in tree(pid):
        try: total += int(next(l for l in open(f'/proc/{p}/status') if l.startswith('VmRSS')).split()[1])
        except (OSError, StopIteration): pass
    return total / 1024


def wait_http(url: str, proc: subprocess.Popen, seconds: float = 180):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None: raise SystemExit(f'the server exited ({proc.returncode})')
        try:
            with urllib.request.urlopen(url, timeout=60): return
        except (OSError, urllib.error.HTTPError): time.sleep(0.5)
    raise SystemExit(f'{url} did not answer in {seconds:.0f} s')


def photo_bytes() -> bytes:
    "A real photograph as a JPEG (scikit-image's astronaut when installed, else a faces2anime selfie at 512 px)."
    try:
        from skimage import data
        img = Image.fromarray(data.astronaut())
    except ImportError:
        from ugatit_nb.data import embedded_dataset, find_images
        img = Image.open(find_images(embedded_dataset() / 'testA')[0]).convert('RGB').resize((512, 512))
    buf = io.BytesIO(); img.save(buf, format='JPEG', quality=90); return buf.getvalue()


def slow_upload(port: int, mb: float, rate: float) -> int:
    "POST `mb` MB of random bytes at `rate` MB/s on a raw socket; the status code (0: the connection failed)."
    size, chunk = int(mb * 1e6), 64 * 1024
    data = os.urandom(chunk)
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=120) as s:
            s.sendall(f'POST /translate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n'
                      f'Content-Length: {size}\r\nConnection: close\r\n\r\n'.encode())
            t0, sent = time.perf_counter(), 0
            while sent < size:
                n = min(chunk, size - sent)
                try: s.sendall(data[:n])
                except OSError: break                              # the server answered early (503, 413) and closed
                sent += n
                ahead = sent / (rate * 1e6) - (time.perf_counter() - t0)
                if ahead > 0: time.sleep(ahead)
            reply = s.recv(64).decode('latin-1')
            return int(reply.split()[1]) if reply.startswith('HTTP/') else 0
    except (OSError, ValueError, IndexError): return 0


def load_test(a) -> None:
    port = free_port()
    cmd = [sys.executable, '-c', 'from ugatit_nb.serve import serve_cli; serve_cli()', '--port', str(port),
           '--concurrency', str(a.concurrency), '--queue', str(a.queue if a.queue is not None else a.clients)]
    if a.checkpoint: cmd += ['--checkpoint', a.checkpoint]
    if a.onnx: cmd += ['--onnx', a.onnx]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    base = f'http://127.0.0.1:{port}'
    try:
        wait_http(base + '/health', server)
        body = photo_bytes()
        def post():
            req = urllib.request.Request(base + '/translate?direction=A2B', data=body, method='POST',
                                         headers={'Content-Type': 'application/octet-stream'})
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=120) as r: r.read(); code = r.status
            except urllib.error.HTTPError as e: code = e.code
            except OSError: code = 0
            return code, time.perf_counter() - t
        for _ in range(3): post()                                          # warm up: first calls allocate
        time.sleep(2); rss_start = rss_mb(server.pid)                     # idle
        results, slow, lock = [], [], threading.Lock()
        deadline = time.time() + a.seconds
        peak, sampling = [rss_start], True
        def sample():
            while sampling: peak.append(rss_mb(server.pid)); time.sleep(0.25)
        def slow_client():
            while time.time() < deadline:
                code = slow_upload(port, a.slow_mb, a.slow_rate)
                with lock: slow.append(code)
                if code == 503: time.sleep(2)                            # Retry-After
        sampler = threading.Thread(target=sample); sampler.start()
        slow_threads = [threading.Thread(target=slow_client) for _ in range(a.slow_uploads)]
        for t in slow_threads: t.start()
        def client():
            while time.time() < deadline:
                r = post()
                with lock: results.append(r)
                if r[0] == 503: time.sleep(2)                            # Retry-After, as a polite client waits
        threads = [threading.Thread(target=client) for _ in range(a.clients)]
        t0 = time.perf_counter()
        for t in threads: t.start()
        for t in threads: t.join()
        wall = time.perf_counter() - t0
        for t in slow_threads: t.join()
        time.sleep(3); sampling = False; sampler.join()
        rss_end = rss_mb(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM); server.wait(timeout=30)
    lat = np.array([s for c, s in results if c == 200])
    failed = sum(c not in (200, 503) for c, _ in results)
    busy = sum(c == 503 for c, _ in results)
    print(f'\nugatit_nb_serve, {a.clients} clients for {a.seconds} s on loopback (concurrency {a.concurrency}, model: '
          f'{a.checkpoint or a.onnx or "the shipped faces2anime model"})')
    if a.slow_uploads:
        print(f'with {a.slow_uploads} slow uploads of {a.slow_mb:g} MB at {a.slow_rate:g} MB/s all along: {len(slow)} sent, '
              f'status codes {dict(sorted((c, slow.count(c)) for c in set(slow)))} (422: not an image, read whole; 503: refused at once)')
    print(f'{"requests":>9s} {"503 busy":>8s} {"failed":>7s} {"req/s":>7s} {"p50 s":>7s} {"p95 s":>7s} {"max s":>7s} {"RSS idle MB":>12s} {"peak MB":>8s} {"end MB":>7s} {"peak/idle":>9s}')
    print(f'{len(results):9d} {busy:8d} {failed:7d} {len(lat) / wall:7.2f} {np.percentile(lat, 50):7.3f} {np.percentile(lat, 95):7.3f} '
          f'{lat.max():7.3f} {rss_start:12.0f} {max(peak):8.0f} {rss_end:7.0f} {max(peak) / rss_start:9.2f}')
    if failed: print('status codes of the failures:', sorted({c for c, _ in results if c not in (200, 503)}))


def page_burst(a) -> None:
    port = free_port()
    server = subprocess.Popen([sys.executable, '-c', 'from ugatit_nb.app import app_cli; app_cli()', '--port', str(port),
                               '--max_visitors', str(a.max_visitors)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True, env={**os.environ, 'MPLBACKEND': 'Agg'})
    base = f'http://127.0.0.1:{port}/'
    peak, stop = [0], threading.Event()
    def watch():
        while not stop.is_set():
            n = sum(1 for p in tree(server.pid) if 'ipykernel' in open(f'/proc/{p}/cmdline', errors='replace').read()
                    ) if server.poll() is None else 0
            peak[0] = max(peak[0], n); time.sleep(0.2)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(('127.0.0.1', port)) == 0: break
            time.sleep(0.3)
        rss_start = rss_mb(server.pid)
        watcher = threading.Thread(target=watch); watcher.start()
        codes, lock = [], threading.Lock()
        def visit():
            try:
                with urllib.request.urlopen(base, timeout=180) as r: r.read(); c = r.status
            except urllib.error.HTTPError as e: c = e.code
            except OSError: c = 0
            with lock: codes.append(c)
        t0 = time.perf_counter()
        visitors = [threading.Thread(target=visit) for _ in range(a.burst)]
        for t in visitors: t.start()
        for t in visitors: t.join()
        wall = time.perf_counter() - t0
        time.sleep(1); stop.set(); watcher.join()
        rss_end = rss_mb(server.pid)
    finally:
        stop.set(); os.killpg(server.pid, signal.SIGTERM); server.wait(timeout=30)
    print(f'\nugatit_nb_app, a burst of {a.burst} visitors at once (kernel cap {a.max_visitors})')
    print(f'{"served 200":>10s} {"refused 503":>12s} {"other":>6s} {"most kernels alive":>19s} {"seconds":>8s} {"RSS start MB":>13s} {"RSS end MB":>11s}')
    print(f'{codes.count(200):10d} {codes.count(503):12d} {len(codes) - codes.count(200) - codes.count(503):6d} '
          f'{peak[0]:19d} {wall:8.1f} {rss_start:13.0f} {rss_end:11.0f}')


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--clients', type=int, default=8)
    p.add_argument('--seconds', type=float, default=120)
    p.add_argument('--concurrency', type=int, default=1, help='translations at once in the server')
    p.add_argument('--queue', type=int, help='waiting requests the server accepts (default: --clients)')
    p.add_argument('--checkpoint'); p.add_argument('--onnx')
    p.add_argument('--slow_uploads', type=int, default=0, help='clients sending large bodies slowly, all along (0: none)')
    p.add_argument('--slow_mb', type=float, default=24, help='size of each slow upload, MB')
    p.add_argument('--slow_rate', type=float, default=2, help='speed of each slow upload, MB/s')
    p.add_argument('--burst', type=int, default=12, help='visitors at once against the page (0: skip)')
    p.add_argument('--max_visitors', type=int, default=4, help="the page's kernel cap")
    a = p.parse_args()
    load_test(a)
    if a.burst: page_burst(a)


if __name__ == '__main__':
    main()
