#!/usr/bin/env bash
# Build the wheel, install it in a fresh venv (its requirements taken from this interpreter's site-packages, so
# nothing is downloaded) and run the library from a folder outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python -m pip wheel -q --no-deps --no-build-isolation -w "$tmp/dist" . >/dev/null
# A venv whose Python also sees the packages of the interpreter running this script (torch and the rest), whether that
# is the system Python or itself a venv (`--system-site-packages` would reach only the base interpreter's).
python -m venv "$tmp/venv"
python -c 'import site, sys; print("\n".join(site.getsitepackages()))' \
  > "$("$tmp/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/_parent_site.pth"
"$tmp/venv/bin/python" -m pip install -q --no-deps --ignore-installed "$tmp"/dist/ugatit_nb-*.whl
cd "$tmp"
MPLBACKEND=Agg "$tmp/venv/bin/python" - "$tmp/venv" <<'PY'
import sys, importlib.metadata as md
from pathlib import Path
import ugatit_nb
assert Path(ugatit_nb.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve()), ugatit_nb.__file__
for req in md.requires('ugatit_nb'):                      # every runtime requirement is importable here
    if 'extra ==' not in req: md.version(req.split(';')[0].split('>')[0].split('=')[0].split('<')[0].strip())
from ugatit_nb.data import embedded_dataset, load_split
ds = load_split(embedded_dataset(), 'testA', 64, train=False)
assert len(ds) == 50 and ds[0].shape == (3, 64, 64)
from ugatit_nb.judge import load_judge, judge_weights_path
assert judge_weights_path().is_relative_to(Path(sys.argv[1]).resolve()) and load_judge()   # the judge ships
from ugatit_nb.shipped import pretrained_dir
assert pretrained_dir().is_relative_to(Path(sys.argv[1]).resolve())
assert ugatit_nb.pretrained('faces2anime').step > 0                                       # so does the trained model
from ugatit_nb.train import UGATIT
from ugatit_nb.config import tiny_config
UGATIT(tiny_config(device='cpu')).save_checkpoint('untrained.pt')
from ugatit_nb.image import install_hint
assert install_hint('faces') == 'pip install "ugatit_nb[faces]"', install_hint('faces')   # an installed package: no clone
print('wheel OK:', ugatit_nb.__file__, 'dataset:', embedded_dataset())
PY
"$tmp/venv/bin/ugatit_nb_eval" untrained.pt --json "$tmp/eval.json" >/dev/null
test -s "$tmp/eval.json"
"$tmp/venv/bin/ugatit_nb_demo" --out "$tmp/demo.png"
test -s "$tmp/demo.png"
