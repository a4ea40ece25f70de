#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb (nbdev_readme needs Quarto, which this toolchain does without).
`--check`: exit 1 when the committed README.md differs from what the notebook gives."""
import sys
from pathlib import Path
from nbconvert import MarkdownExporter
from nbformat import read

root = Path(__file__).resolve().parent.parent
nb = read(root / 'nbs' / 'index.ipynb', as_version=4)
for cell in nb.cells:                                    # the README shows code, not stale outputs
    if cell.cell_type == 'code': cell.outputs = []
body, _ = MarkdownExporter().from_notebook_node(nb)
text = body.strip() + '\n'
readme = root / 'README.md'
if '--check' in sys.argv:
    if not readme.exists() or readme.read_text(encoding='utf-8') != text:
        sys.exit('README.md differs from nbs/index.ipynb: run `python tools/make_readme.py` and commit it')
    print('README.md matches nbs/index.ipynb')
else:
    readme.write_text(text, encoding='utf-8')
    print(f'wrote {readme}')
