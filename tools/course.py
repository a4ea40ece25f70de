#!/usr/bin/env python
"""The course for a class: a student release of the notebooks with the solutions and hidden tests removed, and the
grading of the notebooks students hand back. Both are nbgrader's own commands (`generate_assignment`, `autograde`) run
on an nbgrader course folder that this script lays out; one assignment per notebook of the course path.

    python tools/course.py release --out course                        # every notebook of the path (ugatit_nb.exercises.COURSE)
    python tools/course.py release --out course 01_norms 07_losses     # some of them
    python tools/course.py grade submissions --out course              # submissions/<student>/<notebook>.ipynb
    python tools/course.py grade submissions --out course --json scores.json

The release is course/release/<notebook>/ (the notebook, and the records or helper files it reads): hand those folders
out. A submission folder holds one folder per student with the notebooks they return, either flat
(<student>/07_losses.ipynb) or as nbgrader collects them (<student>/07_losses/07_losses.ipynb). `grade` runs every
notebook again with the hidden tests put back, prints a table of points (student × notebook) and, with --json, writes
it. A notebook that stops on an error, or was never solved, scores what its passing checks earn; `grade` itself does
not fail on it. Needs nbgrader (`pip install -e ".[course]"`).
"""
import argparse, json, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / 'nbs'
# what a notebook reads besides itself, copied beside it into its release
EXTRA = {'comparison/results.json': NBS / 'comparison', 'recipe/results.json': NBS / 'recipe',
         "Path('ablations')": NBS / 'ablations', 'recipe/': NBS / 'recipe', 'show_record_faces': NBS / 'comparison'}


def fail(msg: str):
    sys.exit(f'course.py: {msg}')


def course_notebooks(names: list[str]) -> list[Path]:
    "The notebooks to release: the named ones, or the course path's."
    if not names:
        from ugatit_nb.exercises import COURSE
        names = [row[0] for row in COURSE]
    paths = []
    for n in names:
        p = NBS / (Path(n).stem + '.ipynb')
        if not p.is_file(): fail(f'{p}: no such notebook')
        paths.append(p)
    return paths


def write_config(course: Path):
    (course / 'nbgrader_config.py').write_text(
        'c = get_config()\n'
        f'c.CourseDirectory.root = {str(course)!r}\n'
        "c.CourseDirectory.course_id = 'ugatit_nb'\n"
        'c.Execute.timeout = 1800\n'                         # the slowest notebook of the path trains for minutes
        'c.ClearSolutions.enforce_metadata = True\n')


def nbgrader(course: Path, *args: str, quiet: bool = True):
    "Run one nbgrader command in the course folder; its log goes to course/nbgrader.log."
    if shutil.which('nbgrader') is None: fail('nbgrader is not installed: pip install -e ".[course]"')
    with open(course / 'nbgrader.log', 'a') as log:
        r = subprocess.run(['nbgrader', *args, '--force'], cwd=course, stdout=log if quiet else None,
                           stderr=subprocess.STDOUT if quiet else None)
    if r.returncode != 0: fail(f'nbgrader {" ".join(args)} failed (exit {r.returncode}); its output is in {course / "nbgrader.log"}')


def release(out: Path, names: list[str]) -> list[Path]:
    "Lay out course/source/<nb>/ and let nbgrader write course/release/<nb>/ without solutions and hidden tests."
    out.mkdir(parents=True, exist_ok=True)
    write_config(out)
    made = []
    for nb in course_notebooks(names):
        src = out / 'source' / nb.stem
        shutil.rmtree(src, ignore_errors=True); src.mkdir(parents=True)
        shutil.copy2(nb, src / nb.name)
        text = nb.read_text(encoding='utf-8')
        for needle, extra in EXTRA.items():
            if needle not in text: continue
            if extra.is_dir(): shutil.copytree(extra, src / extra.name, dirs_exist_ok=True)
            else: shutil.copy2(extra, src / extra.name)
        nbgrader(out, 'generate_assignment', nb.stem)
        made.append(out / 'release' / nb.stem / nb.name)
        print(f'released {made[-1]}')
    return made


def find_submissions(folder: Path) -> dict[str, dict[str, Path]]:
    "{student: {notebook: path}} from <student>/<nb>.ipynb or <student>/<nb>/<nb>.ipynb."
    found = {}
    if not folder.is_dir(): fail(f'{folder}: not a folder of submissions (<student>/<notebook>.ipynb)')
    for student in sorted(p for p in folder.iterdir() if p.is_dir()):
        for nb in sorted(student.rglob('*.ipynb')):
            if '.ipynb_checkpoints' in nb.parts: continue
            found.setdefault(student.name, {})[nb.stem] = nb
    if not found: fail(f'{folder}: no <student>/<notebook>.ipynb inside')
    return found


def grade(submissions: Path, out: Path) -> dict:
    "Autograde every submitted notebook against its source (hidden tests included); {student: {notebook: (score, max)}}."
    subs = find_submissions(submissions)
    for student, nbs in subs.items():                          # every notebook named before anything is written
        for name, path in nbs.items():
            if not (out / 'source' / name / f'{name}.ipynb').is_file():
                fail(f'{path}: {name} was not released from {out} (run: python tools/course.py release --out {out} {name})')
    write_config(out)
    for student, nbs in subs.items():
        for name, path in nbs.items():
            dest = out / 'submitted' / student / name
            shutil.rmtree(dest, ignore_errors=True); dest.mkdir(parents=True)
            for extra in (out / 'source' / name).iterdir():      # the records it reads, as released
                if extra.suffix != '.ipynb':
                    (shutil.copytree if extra.is_dir() else shutil.copy2)(extra, dest / extra.name)
            shutil.copy2(path, dest / f'{name}.ipynb')
    scores = {}
    for name in sorted({n for nbs in subs.values() for n in nbs}):
        nbgrader(out, 'autograde', name)
    from nbgrader.api import Gradebook
    with Gradebook(f'sqlite:///{out / "gradebook.db"}') as gb:
        for student, nbs in subs.items():
            for name in nbs:
                sub = gb.find_submission_notebook(name, name, student)
                scores.setdefault(student, {})[name] = (sub.score, sub.max_score)
    return scores


def print_table(scores: dict):
    names = sorted({n for s in scores.values() for n in s})
    print(f"{'student':16s}" + ''.join(f'{n:>18s}' for n in names) + f"{'total':>12s}")
    for student, row in scores.items():
        got = sum(v[0] for v in row.values()); most = sum(v[1] for v in row.values())
        cells = ''.join(f"{('%g / %g' % row[n]) if n in row else '—':>18s}" for n in names)
        print(f'{student:16s}{cells}{got:>7g} / {most:g}')


def main(argv=None):
    p = argparse.ArgumentParser(prog='course.py', description=__doc__.split('\n\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('release', help='write the student release of the course notebooks')
    r.add_argument('notebooks', nargs='*', help='notebook names (default: the whole course path)')
    r.add_argument('--out', default='course', help='the nbgrader course folder (default: course)')
    g = sub.add_parser('grade', help='grade a folder of submitted notebooks')
    g.add_argument('submissions', help='a folder of <student>/<notebook>.ipynb')
    g.add_argument('--out', default='course', help='the course folder the notebooks were released from')
    g.add_argument('--json', help='also write the scores here')
    a = p.parse_args(argv)
    out = Path(a.out).resolve()
    if a.cmd == 'release':
        release(out, a.notebooks)
    else:
        scores = grade(Path(a.submissions), out)
        print_table(scores)
        if a.json: Path(a.json).write_text(json.dumps(scores, indent=1))


if __name__ == '__main__':
    main()
