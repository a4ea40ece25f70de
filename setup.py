# nbdev 2's setup.py, without the `pkg_resources` import that setuptools >= 82 no longer ships.
from configparser import ConfigParser
import setuptools, shlex, shutil
from pathlib import Path
from setuptools.command.build_py import build_py


class build_py_with_dataset(build_py):
    "Ship the embedded faces2anime dataset and the Selfie 2 Waifu page inside the package (ugatit_nb/assets/)."
    def run(self):
        super().run()
        assets = Path(self.build_lib) / 'ugatit_nb' / 'assets'
        src = Path('data') / 'faces2anime'
        if src.is_dir():
            shutil.rmtree(assets / 'faces2anime', ignore_errors=True)
            shutil.copytree(src, assets / 'faces2anime')
        page = Path('nbs') / '13_app.ipynb'              # served by ugatit_nb_app (ugatit_nb.app.page_notebook)
        if page.is_file(): shutil.copyfile(page, assets / '13_app.ipynb')

assert setuptools.__version__ >= '36.2', 'setuptools too old'
config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

cfg_keys = 'version description keywords author author_email'.split()
expected = cfg_keys + "lib_name user branch license status min_python audience language".split()
for o in expected: assert o in cfg, "missing expected setting: {}".format(o)
setup_cfg = {o: cfg[o] for o in cfg_keys}

licenses = {
    'apache2': ('Apache Software License 2.0', 'OSI Approved :: Apache Software License'),
    'mit': ('MIT License', 'OSI Approved :: MIT License'),
}
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable', '6 - Mature', '7 - Inactive']
py_versions = '3.9 3.10 3.11 3.12 3.13'.split()

requirements = shlex.split(cfg.get('requirements', ''))
if cfg.get('pip_requirements'): requirements += shlex.split(cfg.get('pip_requirements', ''))
min_python = cfg['min_python']
lic = licenses.get(cfg['license'].lower(), (cfg['license'], None))
dev_requirements = shlex.split(cfg.get('dev_requirements', ''))

setuptools.setup(
    name=cfg['lib_name'],
    license=lic[0],
    classifiers=['Development Status :: ' + statuses[int(cfg['status'])],
                 'Intended Audience :: ' + cfg['audience'].title(),
                 'Natural Language :: ' + cfg['language'].title()]
               + ['Programming Language :: Python :: ' + o for o in py_versions[py_versions.index(min_python):]]
               + (['License :: ' + lic[1]] if lic[1] else []),
    url=cfg['git_url'],
    packages=setuptools.find_packages(include=['ugatit_nb', 'ugatit_nb.*']),
    include_package_data=True,
    package_data={'ugatit_nb': ['weights/*.pt', 'weights/*/*']},   # the faces2anime judge, the shipped models
    cmdclass={'build_py': build_py_with_dataset},
    install_requires=requirements,
    extras_require={'dev': dev_requirements, 'tensorboard': ['tensorboard'], 'faces': ['opencv-python-headless>=4.8,<5'],
                    'export': ['onnx', 'onnxruntime'], 'serve': ['fastapi>=0.100', 'uvicorn>=0.20'],
                    'docs': ['nbconvert', 'latex2mathml'], 'course': ['nbgrader>=0.9,<0.10']},
    dependency_links=cfg.get('dep_links', '').split(),
    python_requires='>=' + cfg['min_python'],
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    zip_safe=False,
    entry_points={
        'console_scripts': cfg.get('console_scripts', '').split(),
        'nbdev': [f'{cfg.get("lib_path")}={cfg.get("lib_path")}._modidx:d'],
    },
    **setup_cfg)
