"""The README's Python blocks run as written, in order, in a fresh interpreter, where its first command leaves a user:
in the clone, with the run's checkpoint in results/faces2anime/checkpoints/."""
import re, shutil, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def python_blocks() -> list[str]:
    return re.findall(r'```python\n(.*?)```', (ROOT / 'README.md').read_text(encoding='utf-8'), re.S)


def test_the_readme_has_python_blocks_to_run():
    assert len(python_blocks()) >= 2


@pytest.mark.slow
def test_every_python_block_of_the_readme_runs_as_written(tmp_path):
    import torch
    from ugatit_nb.config import cpu_config
    from ugatit_nb.methods import trainer_for
    run = tmp_path / 'results' / 'faces2anime'                       # what the README's first command leaves
    files = (f'checkpoints/ckpt_{cpu_config().iteration:07d}.pt', 'mean_of_8.pt')   # its last checkpoint, its averaged generators
    made = ROOT / 'results' / 'faces2anime'
    if all((made / f).exists() for f in files):                       # the README's first command ran here
        for f in files: (run / f).parent.mkdir(parents=True, exist_ok=True); shutil.copy(made / f, run / f)
    else:                                                              # a run of the recipe's networks, as it writes them
        t = trainer_for(cpu_config(iteration=1, device='cpu', result_dir=str(tmp_path / 'results')))
        (run / 'checkpoints').mkdir(parents=True); t.save_checkpoint(run / files[0]); t.model.save(run / files[1], torch.float32)
    (tmp_path / 'data').symlink_to(ROOT / 'data')                                 # the clone's data folder
    script = tmp_path / 'readme_blocks.py'
    script.write_text('\n\n'.join(python_blocks()), encoding='utf-8')
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                       env={**__import__('os').environ, 'MPLBACKEND': 'Agg'})
    assert r.returncode == 0, r.stderr[-3000:]
    assert "'g/total'" in r.stdout and "'d/total'" in r.stdout, r.stdout             # the losses it says it prints
    png = (tmp_path / 'attention.png').read_bytes()
    assert png.startswith(b'\x89PNG') and len(png) > 1000                           # the panel it says it saves
