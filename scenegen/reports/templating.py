"""The Jinja2 environment of the reports.

Templates are package data: ``scenegen/reports/templates/`` holds the shared page base,
macros, charts and CSS, and the text and Markdown reports; another package (the probe)
adds its own ``templates/`` folder, searched first. HTML templates (``*.html``) are
autoescaped, so every value a report holds comes out as text; the others (``.txt``,
``.md``, ``.css``) are not. An undefined name is an error, never an empty string.
"""

from __future__ import annotations

from functools import lru_cache

from ..lazy import lazy_module
from . import formatting

jinja2 = lazy_module("jinja2")  # imported on the first report

FILTERS = {
    "num": formatting.num,
    "fixed": formatting.fixed,
    "plural": formatting.plural,
    "unit_word": formatting.unit_word,
}


@lru_cache(maxsize=None)
def environment(package: str = __package__) -> jinja2.Environment:
    """The environment that loads the templates of ``package`` (a dotted package name
    with a ``templates/`` folder), then those of :mod:`scenegen.reports`."""
    loaders = [jinja2.PackageLoader(name, "templates") for name in dict.fromkeys((package, __package__))]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def render(template: str, package: str = __package__, **data) -> str:
    """``template`` of ``package`` (see :func:`environment`) rendered with ``data``."""
    return environment(package).get_template(template).render(**data)
