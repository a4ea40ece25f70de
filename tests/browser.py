"""What the browser tests share: Debian's chromium driven by Playwright (never a browser Playwright downloads), the
launch flags this closed network needs, where screenshots go, and the skip-or-fail rule (skipped without chromium or
playwright on a developer machine, an error under CI=true)."""
import os, socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = '/usr/bin/chromium'
ARTIFACTS = Path(os.environ.get('UGATIT_ARTIFACTS', REPO / 'build' / 'browser'))
FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync']

try:
    from playwright.sync_api import sync_playwright
except ImportError:                                    # CI installs it; a developer machine may not have it
    sync_playwright = None
missing = 'playwright is not installed' if sync_playwright is None else (
    None if Path(CHROMIUM).exists() else f'{CHROMIUM} is not installed (apt-get install chromium)')
if missing and os.environ.get('CI') == 'true': raise RuntimeError(f'browser test cannot run in CI: {missing}')
needs_browser = pytest.mark.skipif(bool(missing), reason=missing or '')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def launch(p, profile: Path, **kw):
    "A headless chromium context with a fresh profile folder."
    return p.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS, **kw)
