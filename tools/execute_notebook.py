#!/usr/bin/env python
"""Execute a notebook in place and keep its outputs (for the tutorial, whose cells nbdev_test skips), skipping cells
flagged with any of --skip (default: cuda). Run from the repository root: python tools/execute_notebook.py nbs/09_tutorial.ipynb"""
import argparse, re
from pathlib import Path
import nbformat
from nbclient import NotebookClient

p = argparse.ArgumentParser(description=__doc__)
p.add_argument('notebook'); p.add_argument('--skip', nargs='*', default=['cuda']); p.add_argument('--timeout', type=int, default=1800)
a = p.parse_args()
path = Path(a.notebook)
nb = nbformat.read(path, as_version=4)
flagged = re.compile(r'^#\|\s*(' + '|'.join(map(re.escape, a.skip)) + r')\s*$', re.M) if a.skip else None
skipped = []
for cell in nb.cells:
    if cell.cell_type == 'code' and flagged and flagged.search(cell.source):
        skipped.append(cell); cell.cell_type = 'raw'                 # nbclient runs code cells only
NotebookClient(nb, timeout=a.timeout, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}}).execute()
for cell in skipped:
    cell.cell_type = 'code'; cell.outputs = []; cell.execution_count = None
nbformat.write(nb, path)
print(f'executed {path} ({len(skipped)} flagged cell(s) skipped)')
