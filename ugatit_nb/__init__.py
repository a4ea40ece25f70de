__version__ = "0.1.0"


def __getattr__(name):
    # `ugatit_nb.pretrained('faces2anime')` without importing torch and the trainer on `import ugatit_nb`
    if name == 'pretrained':
        from .models import pretrained
        return pretrained
    raise AttributeError(f"module 'ugatit_nb' has no attribute {name!r}")
