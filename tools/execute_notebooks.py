#!/usr/bin/env python
"""Execute notebooks in place on the CPU and keep their outputs, so each one shows its pictures without being run.
Cells flagged with any of --skip (default: cuda) are left unrun, with no output. Seeds are fixed in the notebooks;
MPLBACKEND and the thread count are fixed here. Then `nbdev_clean` tidies the metadata.

    python tools/execute_notebooks.py                 # every notebook in nbs/ (index, 12_ablations and 15_comparison excepted), 2 at a time
    python tools/execute_notebooks.py nbs/01_norms.ipynb nbs/08_train.ipynb
    python tools/execute_notebooks.py nbs/12_ablations.ipynb   # by name only: without its record it trains 6 models (~2 CPU hours)
    python tools/execute_notebooks.py nbs/15_comparison.ipynb  # by name only: without its record it trains 21 models (~3 CPU hours)"""
import argparse, os, re, subprocess, sys, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def execute(path: str, skip: list[str], timeout: int) -> tuple[str, float, int]:
    import nbformat
    from nbclient import NotebookClient
    t0, path = time.perf_counter(), Path(path)
    nb = nbformat.read(path, as_version=4)
    flagged = re.compile(r'^#\|\s*(' + '|'.join(map(re.escape, skip)) + r')\s*$', re.M) if skip else None
    held = []
    for cell in nb.cells:
        if cell.cell_type == 'code' and flagged and flagged.search(cell.source):
            held.append(cell); cell.cell_type = 'raw'                # nbclient runs code cells only
    NotebookClient(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}}).execute()
    for cell in held:
        cell.cell_type = 'code'; cell.outputs = []; cell.execution_count = None
    nbformat.write(nb, path)
    return str(path), time.perf_counter() - t0, len(held)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('notebooks', nargs='*', help='default: every notebook in nbs/ but index')
    ap.add_argument('--skip', nargs='*', default=['cuda'], help='flags of cells not to run (the GPU cells)')
    ap.add_argument('--timeout', type=int, default=1800, help='seconds per cell')
    ap.add_argument('--workers', type=int, default=2)
    a = ap.parse_args()
    by_name_only = ('index', '12_ablations', '15_comparison')
    paths = a.notebooks or [str(p) for p in sorted((ROOT / 'nbs').glob('*.ipynb')) if p.stem not in by_name_only]
    os.environ.setdefault('MPLBACKEND', 'module://matplotlib_inline.backend_inline')
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    t0 = time.perf_counter()
    # the tutorial trains into nbs/results, which 10_widgets opens if it exists: run it last, so the stored widget
    # pictures do not depend on which notebook a worker happened to finish first
    first, last = [p for p in paths if 'tutorial' not in p], [p for p in paths if 'tutorial' in p]
    with ProcessPoolExecutor(a.workers) as pool:
        for batch in (first, last):
            for job in [pool.submit(execute, p, a.skip, a.timeout) for p in batch]:
                p, sec, n = job.result()
                print(f'{sec:7.1f} s  {Path(p).name}' + (f' ({n} flagged cell(s) not run)' if n else ''), flush=True)
    subprocess.run(['nbdev_clean'], cwd=ROOT, check=True)
    print(f'executed {len(paths)} notebook(s) in {time.perf_counter() - t0:.0f} s')
    sys.exit(0)
