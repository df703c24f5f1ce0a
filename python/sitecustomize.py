"""agnet's shim for Blaxel's Python SDK (the `blaxel` package on PyPI).

The SDK chooses its URLs from BL_ENV only (blaxel.core.common.settings: Settings.base_url and
Settings.run_url are properties that answer Blaxel's cloud), so BL_API_URL and BL_RUN_URL alone
never reach agnet. Put this folder first on PYTHONPATH and Python imports this file at start-up;
it waits for the SDK's settings module to load and then:

  * replaces Settings.base_url with BL_API_URL and Settings.run_url with BL_RUN_URL (each only
    when the variable is set), on the class, so the module's `settings` object sees them;
  * rebuilds `settings.auth` with the new base URL, because the SDK builds it (and with it the
    token endpoint of BL_CLIENT_CREDENTIALS) once, when the module loads.

Nothing else of the SDK is touched, and nothing happens when neither variable is set. Python
imports only one `sitecustomize`; the one this file shadows (Debian ships one) is run after it.
"""
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

_TARGET = "blaxel.core.common.settings"
_HERE = os.path.dirname(os.path.abspath(__file__))


def _overrides():
    out = {}
    api = os.environ.get("BL_API_URL", "").strip()
    run = os.environ.get("BL_RUN_URL", "").strip()
    if api:
        out["base_url"] = api.rstrip("/")
    if run:
        out["run_url"] = run.rstrip("/")
    return out


def _patch(module):
    """Points the SDK's settings at agnet. Safe to call twice."""
    overrides = _overrides()
    settings_cls = getattr(module, "Settings", None)
    if not overrides or settings_cls is None or getattr(settings_cls, "_agnet_patched", False):
        return
    for name, value in overrides.items():
        setattr(settings_cls, name, property(lambda self, v=value: v, doc="Set by agnet from the environment."))
    settings_cls._agnet_patched = True
    instance = getattr(module, "settings", None)
    build_auth = getattr(module, "auth", None)
    if instance is not None and callable(build_auth) and "base_url" in overrides:
        try:
            instance.auth = build_auth(instance.env, instance.base_url)
        except Exception as err:  # the SDK still loads; say why the token endpoint may be wrong
            sys.stderr.write("agnet shim: could not rebuild blaxel's auth with BL_API_URL: %s\n" % err)


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, inner):
        self._inner = inner

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        self._inner.exec_module(module)
        _patch(module)


class _SettingsFinder(importlib.abc.MetaPathFinder):
    """Finds the settings module with the other finders, then wraps its loader."""

    def find_spec(self, fullname, path, target=None):
        if fullname != _TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


def _install():
    if not _overrides():
        return
    if _TARGET in sys.modules:
        _patch(sys.modules[_TARGET])
        return
    sys.meta_path.insert(0, _SettingsFinder())


def _chain():
    """Runs the sitecustomize this one shadows, if there is one further down the path."""
    rest = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        sys.stderr.write("agnet shim: the shadowed sitecustomize failed: %s\n" % err)


_install()
_chain()
