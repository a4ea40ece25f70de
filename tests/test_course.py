"""The course: every notebook of the path has exercises with a hint, a solution and a check; a class release holds no
solution; grading gives the instructor's own notebooks full marks and an unsolved release zero, without failing."""
import json, re, shutil, subprocess, sys
from pathlib import Path

import pytest

from ugatit_nb.exercises import COURSE

ROOT = Path(__file__).resolve().parents[1]
GRADED = ('00b_exercises', '07_losses')          # graded end to end here: two of the path's quickest notebooks


def cells(name):
    return json.loads((ROOT / 'nbs' / f'{name}.ipynb').read_text(encoding='utf-8'))['cells']


def grader(cell, key): return cell.get('metadata', {}).get('nbgrader', {}).get(key, False)


@pytest.mark.parametrize('name', [row[0] for row in COURSE])
def test_every_notebook_of_the_path_has_exercises_with_hint_solution_and_check(name):
    cs = cells(name)
    solutions = [i for i, c in enumerate(cs) if grader(c, 'solution')]
    checks = [i for i, c in enumerate(cs) if grader(c, 'grade')]
    assert len(solutions) >= 2 and len(checks) >= 2, f'{name}: {len(solutions)} exercises'
    for i in solutions:
        task, answer, check = cs[i - 1], cs[i], cs[i + 1]
        text = ''.join(task['source'])
        assert task['cell_type'] == 'markdown' and '<summary>Hint</summary>' in text, f'{name}: cell {i - 1} has no hint'
        assert '### BEGIN SOLUTION' in ''.join(answer['source']), f'{name}: cell {i} holds no solution'
        assert grader(check, 'grade') and grader(check, 'points') > 0, f'{name}: cell {i + 1} is not a graded check'
        assert re.search(r'\bcheck_\w+\(|ExerciseError\(', ''.join(check['source'])), f'{name}: cell {i + 1} checks nothing'


def run_course(*args):
    out = subprocess.run([sys.executable, str(ROOT / 'tools' / 'course.py'), *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_a_release_has_no_solution_and_grading_gives_full_marks_and_zero(tmp_path):
    course, subs = tmp_path / 'course', tmp_path / 'submissions'
    run_course('release', '--out', str(course), *GRADED)
    for name in GRADED:
        released = (course / 'release' / name / f'{name}.ipynb').read_text(encoding='utf-8')
        source = ''.join(''.join(c['source']) for c in cells(name))
        assert 'BEGIN SOLUTION' not in released and 'BEGIN HIDDEN TESTS' not in released
        answers = re.findall(r'### BEGIN SOLUTION\n(.*?)\n\s*### END SOLUTION', source, re.S)
        hidden = re.findall(r'### BEGIN HIDDEN TESTS\n(.*?)\n\s*### END HIDDEN TESTS', source, re.S)
        assert answers and hidden
        for block in answers + hidden:
            for line in block.splitlines():
                if len(line.strip()) > 12: assert json.dumps(line.strip())[1:-1] not in released, (name, line)
        (subs / 'instructor').mkdir(parents=True, exist_ok=True); (subs / 'unsolved').mkdir(exist_ok=True)
        shutil.copy2(ROOT / 'nbs' / f'{name}.ipynb', subs / 'instructor' / f'{name}.ipynb')
        shutil.copy2(course / 'release' / name / f'{name}.ipynb', subs / 'unsolved' / f'{name}.ipynb')
    table = run_course('grade', str(subs), '--out', str(course), '--json', str(tmp_path / 'scores.json'))
    print(table)
    scores = json.loads((tmp_path / 'scores.json').read_text())
    for name in GRADED:
        got, most = scores['instructor'][name]
        assert most >= 2 and got == most, (name, got, most)
        assert scores['unsolved'][name][0] == 0, (name, scores['unsolved'][name])
    assert re.search(r'^instructor\s.*\s(\d+) / \1\s*$', table, re.M) and re.search(r'^unsolved\s.*\s0 / \d+\s*$', table, re.M), table


def test_grading_names_a_notebook_that_was_not_released(tmp_path):
    (tmp_path / 'subs' / 'ann').mkdir(parents=True)
    (tmp_path / 'subs' / 'ann' / '99_nothing.ipynb').write_text('{}')
    out = subprocess.run([sys.executable, str(ROOT / 'tools' / 'course.py'), 'grade', str(tmp_path / 'subs'),
                          '--out', str(tmp_path / 'course')], capture_output=True, text=True)
    assert out.returncode != 0 and out.stderr.strip().count('\n') == 0 and '99_nothing was not released' in out.stderr, out.stderr


def test_the_readme_course_map_is_the_course_path_in_order():
    text = (ROOT / 'README.md').read_text(encoding='utf-8').split('## The course', 1)[1].split('\n## ', 1)[0]
    listed = re.findall(r'^\| \d+ \| `([^`]+)` \| (\d+) \|', text, re.M)
    assert listed == [(name, str(minutes)) for name, minutes, _ in COURSE], listed
    assert 'python tools/course.py release' in text and 'python tools/course.py grade' in text
