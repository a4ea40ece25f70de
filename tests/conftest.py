import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))           # tests/browser.py


def pytest_configure(config):
    config.addinivalue_line('markers', 'app_args(make=fn): extra ugatit_nb_app arguments, fn(tmp_path) → list')
    config.addinivalue_line('markers', 'slow: starts processes, servers or a browser (pytest -m "not slow" leaves them out)')
