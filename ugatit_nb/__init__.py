__version__ = "0.1.0"


def __getattr__(name):
    # `ugatit_nb.load(...)` and `ugatit_nb.pretrained('faces2anime')` without importing torch on `import ugatit_nb`
    if name == 'pretrained':
        from .shipped import pretrained
        return pretrained
    if name == 'load':                # ugatit_nb.load(path_or_name): a model to translate with (07e_inference)
        from .inference import load
        return load
    raise AttributeError(f"module 'ugatit_nb' has no attribute {name!r}")
