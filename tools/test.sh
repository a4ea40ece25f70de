#!/usr/bin/env bash
# Every test of ugatit_nb: notebooks and library in sync, README from the notebook, stored pictures, notebook tests,
# tests/ (the browser tests of the inspector and the docs site among them), the wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
export MPLBACKEND=Agg PYTHONUNBUFFERED=1

snapshot() { { git status --porcelain; git diff; } 2>/dev/null | sha1sum; }
echo "== the library is what nbdev_export makes of the notebooks, and the notebooks are clean"
before=$(snapshot)
nbdev_export
nbdev_clean
if [ "$before" != "$(snapshot)" ]; then
  echo "FAIL: nbdev_export/nbdev_clean changed files: run both and commit the notebooks with ugatit_nb/" >&2
  git status --short >&2
  exit 1
fi
python tools/make_readme.py --check
python tools/check_notebooks.py                 # every notebook shows a picture without being run; nbs/ < 19 MB
python tools/import_graph.py --check --order    # no import circle; the page, widgets, export, evaluation never load the trainer;
                                                # no module imports a later notebook's module when it is imported
python -m pyflakes ugatit_nb/                   # no unused import, no undefined name (nothing printed)

echo "== notebook tests (nbdev_test; flags slow/cuda skipped unless NBDEV_FLAGS is set)"
nbdev_test --n_workers 2 --timing ${NBDEV_FLAGS:+--flags "$NBDEV_FLAGS"}

echo "== tests/"
python -m pytest tests -q -p no:cacheprovider

echo "== the wheel installs and runs in a fresh venv, away from the repository"
bash tools/check_wheel.sh
