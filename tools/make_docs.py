#!/usr/bin/env python
"""Render the executed notebooks in nbs/ to a static HTML site, offline: python tools/make_docs.py [--out _docs]

- one page per notebook, in notebook order, with a sidebar; the home page is nbs/index.ipynb (the README's source);
- math ($…$ and $$…$$ in markdown) becomes MathML when the site is built, so no script or CDN is needed to read it;
- the stored outputs (pictures included) are embedded; cells flagged `#| hide` are left out and `#|` directive lines
  are dropped from the code shown;
- links to other notebooks (`08_train.ipynb`, `nbs/08_train.ipynb`) point at their pages.
Nothing is executed: run `python tools/execute_notebooks.py` first to refresh the outputs."""
import argparse, html, re, shutil
from pathlib import Path

try:
    import nbformat
    from latex2mathml.converter import convert as latex_to_mathml
    from nbconvert import HTMLExporter
    from pygments.formatters import HtmlFormatter
except ImportError as e:
    raise SystemExit(f'error: the docs site needs {e.name}: pip install -e ".[docs]"') from None

ROOT = Path(__file__).resolve().parent.parent
MATH = re.compile(r'(?<!\\)\$\$(.+?)\$\$|(?<![\\$\w])\$(?!\s)([^$\n]+?)(?<!\s)\$(?![\w$])', re.S)
CODE = re.compile(r'(```.*?```|`[^`\n]*`)', re.S)
LINK = re.compile(r'href="(?:\.\./)?(?:nbs/)?([\w.-]+)\.ipynb(#[^"]*)?"')

CSS = """
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; }
nav { position: fixed; top: 0; bottom: 0; left: 0; width: 250px; overflow-y: auto; padding: 18px 14px;
      background: #f6f8fa; border-right: 1px solid #d0d7de; }
nav .brand { font-weight: 700; font-size: 17px; margin-bottom: 12px; display: block; color: #1f2328; }
nav a { display: block; padding: 4px 8px; border-radius: 5px; color: #0969da; text-decoration: none; font-size: 14px; }
nav a.current { background: #ddf4ff; font-weight: 600; }
nav small { color: #57606a; display: block; margin-left: 8px; font-size: 12px; }
main { margin-left: 250px; padding: 24px 40px 60px; max-width: 1100px; }
pre { background: #f6f8fa; padding: 10px 12px; border-radius: 6px; overflow-x: auto; font-size: 13px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 90%; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 10px 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; }
math[display="block"] { display: block; margin: 12px 0; padding: 4px 0; overflow-x: auto; overflow-y: hidden; }
.jp-OutputArea-output pre { background: #fff; border-left: 3px solid #d0d7de; }
.jp-InputPrompt, .jp-OutputPrompt { display: none; }
.widget-note { color: #57606a; font-style: italic; border-left: 3px solid #d0d7de; padding-left: 8px; }
"""


def _math_to_mathml(text: str) -> str:
    "Replace $$…$$ (display) and $…$ (inline) math outside code by MathML."
    def one(m):
        display, inline = m.group(1), m.group(2)
        tex = display if display is not None else inline
        out = latex_to_mathml(tex.strip(), display='block' if display is not None else 'inline')
        return out if display is None else f'\n\n{out}\n\n'
    parts = CODE.split(text)                              # odd parts are code: left alone
    return ''.join(p if i % 2 else MATH.sub(one, p) for i, p in enumerate(parts))


WIDGET = 'application/vnd.jupyter.widget-view+json'
WIDGET_NOTE = '<p class="widget-note">An interactive widget appears here when the notebook runs.</p>'


def _static(output):
    "A live widget output as something a static page can show: its text (a progress bar's, say), or a note."
    data = output.get('data', {})
    if WIDGET not in data: return output
    text = data.get('text/plain', '')
    data.pop(WIDGET)
    if not text or re.match(r'^\w+\(', text): data.clear(); data['text/html'] = WIDGET_NOTE
    return output


def _prepare(nb):
    "Drop hidden cells and directive lines; live widgets become text or a note; markdown math becomes MathML."
    cells = []
    for cell in nb.cells:
        src = cell.source
        if cell.cell_type == 'code':
            if re.search(r'^#\|\s*hide\s*$', src, re.M): continue
            cell.source = '\n'.join(l for l in src.splitlines() if not l.lstrip().startswith('#|')).strip('\n')
            if not cell.source and not cell.get('outputs'): continue
            cell.outputs = [_static(o) for o in cell.get('outputs', [])]
        elif cell.cell_type == 'markdown':
            cell.source = _math_to_mathml(src)
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop('widgets', None)                      # saved widget state: nothing on a static page reads it
    return nb


def _title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == 'markdown':
            m = re.search(r'^#\s+(.+)$', cell.source, re.M)
            if m: return m.group(1).strip()
    return fallback


def _page(title: str, body: str, nav: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
            f'<title>{html.escape(title)} · ugatit_nb</title><link rel="stylesheet" href="style.css"></head>\n'
            f'<body><nav>{nav}</nav><main>{body}</main></body></html>\n')


def build(out: Path) -> list[Path]:
    "Write the site into `out` (emptied first); returns the pages written."
    nbs = sorted((ROOT / 'nbs').glob('*.ipynb'), key=lambda p: (p.stem != 'index', p.stem))
    pages = [(p, 'index.html' if p.stem == 'index' else f'{p.stem}.html', nbformat.read(p, as_version=4)) for p in nbs]
    titles = {name: _title(nb, p.stem) for p, name, nb in pages}
    exporter = HTMLExporter(template_name='basic')
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / 'style.css').write_text(CSS + HtmlFormatter(style='default').get_style_defs('.highlight'), encoding='utf-8')
    (out / '.nojekyll').write_text('')                    # GitHub Pages: serve the files as they are
    written = []
    for path, name, nb in pages:
        current = lambda n: ' class="current"' if n == name else ''
        nav = '<a class="brand" href="index.html">ugatit_nb</a>' + ''.join(
            f'<a href="{n}"{current(n)}>{html.escape(titles[n])}<small>{"home" if p.stem == "index" else p.stem}</small></a>'
            for p, n, _ in pages)
        body, _ = exporter.from_notebook_node(_prepare(nb))
        body = LINK.sub(lambda m: f'href="{"index" if m.group(1) == "index" else m.group(1)}.html{m.group(2) or ""}"', body)
        (out / name).write_text(_page(titles[name], body, nav), encoding='utf-8')
        written.append(out / name)
    return written


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=str(ROOT / '_docs'), help='folder to write (emptied first)')
    pages = build(Path(ap.parse_args().out))
    print(f'wrote {len(pages)} pages to {pages[0].parent}')
