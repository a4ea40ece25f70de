"""The docs site, built offline from the committed notebooks and opened in a real browser: every page loads over HTTP
from 127.0.0.1 without a console error or a failed request, every sidebar link leads to a page, the math is MathML,
and the AdaLIN page shows its figure. Screenshot: build/browser/docs_adalin.png."""
import functools, http.server, subprocess, sys, threading

import pytest

from browser import ARTIFACTS, REPO, launch, needs_browser, sync_playwright

pytestmark = [needs_browser, pytest.mark.slow]   # builds and browses the docs site


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "The site built by tools/make_docs.py into a temporary folder, served on 127.0.0.1; stopped afterwards."
    out = tmp_path_factory.mktemp('docs') / '_docs'
    subprocess.run([sys.executable, str(REPO / 'tools' / 'make_docs.py'), '--out', str(out)], check=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try: yield out, f'http://127.0.0.1:{server.server_address[1]}'
    finally: server.shutdown(); server.server_close()


def test_every_page_loads_cleanly_and_the_adalin_page_shows_its_figure(site, tmp_path):
    out, base = site
    pages = sorted(p.name for p in out.glob('*.html'))
    notebooks = sorted(p.stem for p in (REPO / 'nbs').glob('*.ipynb'))
    assert pages == sorted('index.html' if n == 'index' else f'{n}.html' for n in notebooks)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        ctx = launch(p, tmp_path / 'profile', viewport={'width': 1300, 'height': 900})
        try:
            page = ctx.new_page()
            problems = []
            page.on('console', lambda m: m.type == 'error' and problems.append(f'console: {m.text}'))
            page.on('pageerror', lambda e: problems.append(f'page error: {e}'))
            page.on('requestfailed', lambda r: problems.append(f'failed request: {r.url}'))
            for name in pages:
                response = page.goto(f'{base}/{name}', wait_until='load')
                assert response.status == 200, name
                assert page.locator('nav a').count() == len(pages) + 1, name          # brand + one link per page
                links = page.eval_on_selector_all('nav a', 'els => els.map(e => e.getAttribute("href"))')
                assert set(links) == set(pages), (name, links)
                assert not page.locator('a[href$=".ipynb"]').count(), f'{name} links to a notebook, not a page'
                broken = page.eval_on_selector_all('main img', 'els => els.filter(e => !e.complete || e.naturalWidth == 0).length')
                assert broken == 0, f'{name}: {broken} image(s) did not load'
            assert not problems, problems
            page.goto(f'{base}/01_norms.html', wait_until='load')
            assert 'AdaLIN' in page.title()
            assert page.locator('main math').count() >= 3                                # equations rendered as MathML
            assert '$$' not in page.locator('main').inner_text()
            figures = page.locator('main img')
            assert figures.count() >= 1
            figure = figures.first
            figure.scroll_into_view_if_needed()
            assert figure.evaluate('e => e.naturalWidth') > 200
            page.screenshot(path=str(ARTIFACTS / 'docs_adalin.png'))
        finally:
            ctx.close()
    assert (ARTIFACTS / 'docs_adalin.png').stat().st_size > 10_000
