"""The package's import graph: each module's imports of other ugatit_nb modules (module level and inside functions),
the circles among them, and for the modules a user meets first, what importing them loads (a fresh interpreter each).

    python tools/import_graph.py            # the graph, the circles, what each user-facing module loads
    python tools/import_graph.py --check    # fail if there is a circle or a user-facing module loads the trainer
"""
import ast, subprocess, sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / 'ugatit_nb'
USER_FACING = ['app', 'widgets', 'export', 'serve', 'inference', 'evaluate', 'models', 'image']


def imports(path: Path) -> set[str]:
    "ugatit_nb modules that `path` imports anywhere in its code."
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module: out.add(node.module.split('.')[0])
            elif node.module and node.module.startswith('ugatit_nb.'): out.add(node.module.split('.')[1])
            elif node.level == 1 or node.module == 'ugatit_nb':
                out |= {a.name for a in node.names if (PKG / f'{a.name}.py').exists()}
        elif isinstance(node, ast.Import):
            out |= {a.name.split('.')[1] for a in node.names if a.name.startswith('ugatit_nb.')}
    return out - {path.stem}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    "Strongly connected groups of more than one module (Tarjan)."
    index, low, stack, on, found, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in graph.get(v, ()):
            if w not in index: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop(); on.discard(w); group.append(w)
                if w == v: break
            if len(group) > 1: found.append(sorted(group))
    for v in graph:
        if v not in index: visit(v)
    return found


def loads(module: str) -> list[str]:
    "The ugatit_nb modules (and torch) that `import ugatit_nb.<module>` loads in a fresh interpreter."
    code = (f'import sys, ugatit_nb.{module}; '
            "print(' '.join(sorted({m.split('.')[1] for m in sys.modules if m.startswith('ugatit_nb.')} "
            "| ({'torch'} if 'torch' in sys.modules else set()))))")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    return r.stdout.split() if r.returncode == 0 else [f'(import failed: {r.stderr.strip().splitlines()[-1]})']


if __name__ == '__main__':
    graph = {p.stem: imports(p) for p in sorted(PKG.glob('*.py')) if not p.stem.startswith('_')}
    print(f'{"module":<12} {"lines":>5}  imports')
    for m, deps in graph.items():
        print(f'{m:<12} {len((PKG / f"{m}.py").read_text().splitlines()):>5}  {", ".join(sorted(deps)) or "-"}')
    cs = circles(graph)
    print('\ncircles:', '; '.join(' ↔ '.join(c) for c in cs) if cs else 'none')
    print('\nwhat importing a user-facing module loads (a fresh interpreter each):')
    bad = list(cs)
    for m in USER_FACING:
        if m in graph:
            got = loads(m)
            if 'train' in got or got[:1] and got[0].startswith('(import failed'): bad.append(m)
            print(f'  {m:<10} trainer: {"YES" if "train" in got else "no ":<3}  torch: {"yes" if "torch" in got else "no "}  '
                  f'({len(got) - ("torch" in got)} ugatit_nb modules)')
    if '--check' in sys.argv and bad: sys.exit(f'FAIL: circles or user-facing modules that load the trainer: {bad}')
