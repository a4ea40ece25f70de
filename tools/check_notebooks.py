#!/usr/bin/env python
"""Check what a reader sees without running anything: every notebook in nbs/ but index stores at least one picture,
and nbs/ stays small enough to browse (default 19 MB: 49 notebooks, most with pictures of faces, which compress poorly).
Executes nothing. Exit 1 with one line per problem."""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT_MB = float(sys.argv[1]) if len(sys.argv) > 1 else 19.0
NO_PICTURE = {'index'}      # the README's source

problems, total = [], 0
for path in sorted((ROOT / 'nbs').glob('*.ipynb')):
    total += path.stat().st_size
    if path.stem in NO_PICTURE: continue
    try: nb = json.loads(path.read_text(encoding='utf-8'))
    except ValueError as e: problems.append(f'{path.relative_to(ROOT)}: not a readable notebook ({e})'); continue
    pictures = sum('image/png' in o.get('data', {}) for c in nb['cells'] for o in c.get('outputs', []))
    if not pictures: problems.append(f'{path.relative_to(ROOT)}: no stored picture (run python tools/execute_notebooks.py {path.relative_to(ROOT)})')
if total > LIMIT_MB * 2**20: problems.append(f'nbs/ holds {total / 2**20:.1f} MB of notebooks, over {LIMIT_MB:g} MB')
for p in problems: print(p, file=sys.stderr)
if problems: sys.exit(1)
print(f'every notebook shows its pictures; nbs/ holds {total / 2**20:.1f} MB')
