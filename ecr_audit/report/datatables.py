"""DataTables, as the itables package ships it, made fit to inline in the report's page.

itables carries an offline build of DataTables and its extensions (Buttons for Copy and CSV among
them) as one ES module, ``itables/html/dt_bundle.js``, with its stylesheet ``dt_bundle.css``. The
report reads both from the installed package (nothing of DataTables is copied into this project)
and inlines them, because a report is one file read offline. itables' own loader imports the
module from a ``blob:`` URL, which the report's Content-Security-Policy refuses (it runs only the
scripts carrying the export's nonce); so the module's one ``export {...}`` clause becomes the
return value of a function, and the bundle runs as a classic script that defines
``ecrAuditDataTables`` (``.default`` is DataTables, ``.jQuery`` the jQuery it is built on) before
the page's table script runs.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

__all__ = ["DataTablesError", "bundle_css", "bundle_script", "GLOBAL_NAME"]

#: the variable the page's table script reads DataTables from
GLOBAL_NAME = "ecrAuditDataTables"

_EXPORT = re.compile(r"export\s*\{([^{}]*)\}\s*;?")
_BINDING = re.compile(r"^\s*([A-Za-z_$][\w$]*)(?:\s+as\s+([A-Za-z_$][\w$]*))?\s*$")


class DataTablesError(RuntimeError):
    """The installed itables does not ship the bundle in the form the report inlines."""


def _package_text(name: str) -> str:
    try:
        return (resources.files("itables") / "html" / name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as error:
        raise DataTablesError(f"itables' offline DataTables bundle (itables/html/{name}) is not installed: "
                              f"{error}; pip install 'itables>=2.1'") from None


def _inline_safe(text: str, name: str) -> str:
    """``text`` unchanged if HTML's script parsing would end the element only at the page's own
    ``</script>``: no ``</script`` inside, and no ``<!--`` followed later by ``<script`` and a
    space, ``/`` or ``>`` (which would make the parser skip the next ``</script>``)."""
    lowered = text.lower()
    comment = lowered.find("<!--")
    if "</script" in lowered or (comment >= 0 and re.search(r"<script[\s/>]", lowered[comment:])):
        raise DataTablesError(f"itables/html/{name} cannot be inlined in a script element as it is")
    return text


def as_classic_script(module_text: str) -> str:
    """The ES module ``module_text`` (one ``export {a as b, ...}`` clause, no imports) as a classic
    script assigning its exports to :data:`GLOBAL_NAME`; run in strict mode, as a module is."""
    clauses = list(_EXPORT.finditer(module_text))
    if len(clauses) != 1 or re.search(r"(^|[;}\s])import\s*[\s{*(]", module_text[:2000]):
        raise DataTablesError("itables/html/dt_bundle.js is not a module with a single export clause")
    clause = clauses[0]
    exported = []
    for binding in clause.group(1).split(","):
        match = _BINDING.match(binding)
        if match is None:
            raise DataTablesError(f"itables/html/dt_bundle.js exports {binding.strip()!r}, which is not a name")
        local, alias = match.group(1), match.group(2) or match.group(1)
        exported.append(f'"{alias}": {local}')
    returned = "return {" + ", ".join(exported) + "};"
    return (f"var {GLOBAL_NAME} = (function () {{\n\"use strict\";\n{module_text[:clause.start()]}{returned}"
            f"{module_text[clause.end():]}\n}}());\n")


@lru_cache(maxsize=1)
def bundle_script() -> str:
    """DataTables with its extensions, as a classic script defining :data:`GLOBAL_NAME`."""
    return _inline_safe(as_classic_script(_package_text("dt_bundle.js")), "dt_bundle.js")


@lru_cache(maxsize=1)
def bundle_css() -> str:
    """The bundle's stylesheet (its images are ``data:`` URLs, which the page's policy allows)."""
    css = _package_text("dt_bundle.css")
    if "</style" in css.lower():
        raise DataTablesError("itables/html/dt_bundle.css cannot be inlined in a style element as it is")
    return css
