"""End to end in a real browser: JupyterLab on 127.0.0.1, Debian's chromium driven by Playwright, the inspection
notebook run top to bottom, the image slider moved, the displayed image checked, a screenshot saved.

Screenshot: build/browser/attention_inspector.png (or $UGATIT_ARTIFACTS/attention_inspector.png)."""
import json, os, secrets, shutil, signal, subprocess, sys, time, urllib.request

import pytest

from browser import ARTIFACTS, REPO, free_port as _free_port, launch, needs_browser, sync_playwright

pytestmark = [needs_browser, pytest.mark.slow]   # a browser against JupyterLab


def _request(url, token, method='GET'):
    req = urllib.request.Request(url, method=method, headers={'Authorization': f'token {token}'})
    with urllib.request.urlopen(req, timeout=5) as r: return r.status


@pytest.fixture
def lab(tmp_path):
    "A JupyterLab server on 127.0.0.1 serving a copy of the inspection notebook; stopped afterwards."
    root, conf = tmp_path / 'root', tmp_path / 'jupyter'
    root.mkdir()
    shutil.copy(REPO / 'nbs' / '10_widgets.ipynb', root / 'inspect.ipynb')
    settings = conf / 'lab-settings'
    for rel, value in [('@jupyterlab/notebook-extension/tracker.jupyterlab-settings', {'autoStartDefaultKernel': True}),
                       ('@jupyterlab/apputils-extension/notification.jupyterlab-settings',
                        {'fetchNews': 'false', 'checkForUpdates': False})]:
        (settings / rel).parent.mkdir(parents=True, exist_ok=True); (settings / rel).write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(conf / 'config'), 'JUPYTER_RUNTIME_DIR': str(conf / 'runtime'),
           'JUPYTERLAB_SETTINGS_DIR': str(settings), 'JUPYTERLAB_WORKSPACES_DIR': str(conf / 'workspaces'),
           'MPLBACKEND': 'module://matplotlib_inline.backend_inline'}
    log = open(tmp_path / 'lab.log', 'w')
    server = subprocess.Popen(
        [sys.executable, '-m', 'jupyter', 'lab', '--no-browser', '--allow-root', '--ip=127.0.0.1', f'--port={port}',
         f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}', '--LabApp.expose_app_in_browser=True'],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f'http://127.0.0.1:{port}'
    try:
        deadline = time.time() + 90
        while True:
            try:
                if _request(f'{base}/api/status', token) == 200: break
            except OSError: pass
            if server.poll() is not None or time.time() > deadline:
                raise RuntimeError('JupyterLab did not start:\n' + (tmp_path / 'lab.log').read_text()[-3000:])
            time.sleep(0.5)
        yield base, token, tmp_path
    finally:
        try: _request(f'{base}/api/shutdown', token, 'POST')
        except OSError: pass
        try: server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL); server.wait()
        log.close()


KERNEL_IDLE = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.connectionStatus === 'connected' && k.status === 'idle'; }"""


def test_inspector_in_jupyterlab(lab):
    base, token, tmp = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        ctx = launch(p, tmp / 'profile', viewport={'width': 1400, 'height': 1000})
        try:
            page = ctx.new_page()
            page.goto(f'{base}/lab/tree/inspect.ipynb?token={token}&reset')
            page.wait_for_selector('.jp-NotebookPanel .jp-Cell', timeout=60_000)
            page.wait_for_function(KERNEL_IDLE, timeout=90_000, polling=500)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            # the notebook ends with a short training run whose live view reports 'iteration 6/6'
            page.wait_for_selector('text=iteration 6/6', timeout=240_000)
            page.wait_for_function(KERNEL_IDLE, timeout=60_000, polling=500)
            errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]:has-text("Error")')
            assert errors.count() == 0, errors.first.inner_text()
            out = page.locator('.jp-OutputArea-output:has(.widget-hslider):has-text("redraw")').first
            out.scroll_into_view_if_needed()
            info = out.locator('.widget-html-content:has-text("redraw")').first
            assert 'image 3 ' in info.text_content()        # where the notebook's last cells (its first exercise) left it
            shown = out.locator('.widget-image').last       # the big panel image (thumbnails come first)
            shown.scroll_into_view_if_needed()
            before = shown.screenshot()
            out.locator('.widget-hslider .noUi-handle').first.click()
            page.keyboard.press('ArrowRight')
            page.wait_for_function("el => el.textContent.includes('image 4 ')", arg=info.element_handle(), timeout=30_000)
            page.wait_for_function(KERNEL_IDLE, timeout=30_000, polling=250)
            after = shown.screenshot()
            assert after != before, 'the displayed image did not change when the slider moved'
            out.screenshot(path=str(ARTIFACTS / 'attention_inspector.png'))
            page.screenshot(path=str(ARTIFACTS / 'jupyterlab_page.png'))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / 'failure.png'))
            raise
        finally:
            ctx.close()
    assert (ARTIFACTS / 'attention_inspector.png').stat().st_size > 10_000
