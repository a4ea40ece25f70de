"""What the Selfie 2 Waifu page costs per visitor: memory of `ugatit_nb_app` and everything it started (Voilà, its
kernels, the shared translator) with 1 and then N visitors whose pages stay open, with the model shared by one
translator process (the default) beside a model per visitor (`--own_translators`), in the same run.

    python benchmarks/page_memory.py                          # the paper's 256 px full generator, untrained (made once)
    python benchmarks/page_memory.py --checkpoint selfie2anime.pt --visitors 4
"""
import argparse, os, re, signal, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from serve_load import free_port, rss_mb   # noqa: E402  (the same process-tree memory as the load benchmark)


def paper_sized_model(path: Path) -> Path:
    "An untrained model of the paper's size (256 px, full generator, ch 64) in float16: the memory of the real one."
    if not path.exists():
        import torch
        from ugatit_nb.config import UGATITConfig
        from ugatit_nb.inference import Model, build_networks
        c = UGATITConfig(light=False, img_size=256, ch=64, device='cpu')
        torch.manual_seed(0)
        Model(c, build_networks(c)).save(path)
    return path


def visit(port: int):
    "Open the page as a browser does: render it (its kernel starts and runs the page), then keep its websocket open."
    import websocket
    with urllib.request.urlopen(f'http://127.0.0.1:{port}/', timeout=900) as r: html = r.read().decode()
    kernel = re.search(r'"kernelId":\s*"([0-9a-f-]+)"', html).group(1)
    return websocket.create_connection(f'ws://127.0.0.1:{port}/api/kernels/{kernel}/channels',
                                       subprotocols=['v1.kernel.websocket.jupyter.org'], timeout=60)


def measure(checkpoint: Path, visitors: int, own: bool) -> tuple[float, float, float]:
    port = free_port()
    cmd = [sys.executable, '-c', 'from ugatit_nb.app import app_cli; app_cli()', '--port', str(port), '--checkpoint',
           str(checkpoint), '--max_visitors', str(visitors + 1), *(['--own_translators'] if own else [])]
    app = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                           env={**os.environ, 'MPLBACKEND': 'Agg'})
    sockets = []
    try:
        deadline = time.time() + 900
        while True:
            with socket.socket() as s:
                if s.connect_ex(('127.0.0.1', port)) == 0: break
            if app.poll() is not None or time.time() > deadline: raise SystemExit('the page did not start')
            time.sleep(0.5)
        time.sleep(2); idle = rss_mb(app.pid)
        sockets.append(visit(port)); time.sleep(3); one = rss_mb(app.pid)
        while len(sockets) < visitors: sockets.append(visit(port))
        time.sleep(3); many = rss_mb(app.pid)
        return idle, one, many
    finally:
        for ws in sockets: ws.close()
        os.killpg(app.pid, signal.SIGTERM)
        try: app.wait(timeout=60)
        except subprocess.TimeoutExpired: os.killpg(app.pid, signal.SIGKILL); app.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--checkpoint', help='the model to serve (default: an untrained one of the paper\'s size, made once)')
    p.add_argument('--visitors', type=int, default=4)
    a = p.parse_args()
    ckpt = Path(a.checkpoint) if a.checkpoint else paper_sized_model(Path(tempfile.gettempdir()) / 'ugatit_nb_paper_size.pt')
    print(f'the page serving {ckpt.name} ({ckpt.stat().st_size / 1e6:.0f} MB on disk); memory of the page and all it started, MB')
    print(f'{"translator":<28s} {"idle":>7s} {"1 visitor":>10s} {f"{a.visitors} visitors":>11s} {f"+{a.visitors - 1} visitors":>12s}')
    for own in (False, True):
        idle, one, many = measure(ckpt, a.visitors, own)
        name = 'a model per visitor' if own else 'one, shared (default)'
        print(f'{name:<28s} {idle:7.0f} {one:10.0f} {many:11.0f} {many - one:12.0f}', flush=True)


if __name__ == '__main__':
    main()
