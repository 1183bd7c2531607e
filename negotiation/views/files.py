"""Charts as files: SVG and PNG rendered by vl-convert (no browser), HTML pages that work offline.

An HTML page carries Vega, Vega-Lite and vega-embed (vl-convert's bundle of
them) inline, or loads them from a file beside it, never from the network.
Bundling them takes vl-convert about two seconds: the bundle is kept in the
user's cache directory, and a report reuses the copy it wrote before when
the versions match.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from html import escape
from importlib.metadata import version
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert

from ..outfiles import write_whole

#: The suffixes ``save`` writes, and what each is.
FORMATS = {".svg": "an SVG picture", ".png": "a PNG picture", ".html": "a web page with tooltips"}
#: Options for vega-embed: drawn as SVG (so the page can scale it), no menu that reaches the network.
EMBED_OPTIONS = {"renderer": "svg", "actions": False}
#: What the bundle's own code does: make the libraries globals, for the pages' scripts to call.
GLOBALS = "window.vegaEmbed = vegaEmbed; window.vegaLite = vegaLite; window.vega = vega;"
#: Below this width (pixels) a page shows a chart's phone version, when it has one, instead of the full one.
NARROW_PAGE = 860
#: Scale a chart down to the width of the page, never up; text stays selectable. A narrow page shows the
#: phone's chart.
CHART_CSS = (".chart{max-width:100%;overflow:hidden}.chart svg{max-width:100%;height:auto;display:block}"
             f".chart.narrow{{display:none}}@media (max-width:{NARROW_PAGE}px){{.chart.wide{{display:none}}"
             ".chart.narrow{display:block}}")


def check_format(path: Path) -> str:
    """The suffix of ``path`` if ``save`` can write it; ValueError naming the suffixes it can, otherwise."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot write {path.name or path}: the file name must end in "
                         f"{', '.join(FORMATS)} (got {suffix or 'no suffix'})")
    return suffix


def save(chart: alt.TopLevelMixin, path: Path, title: str, scale: float = 2.0,
         narrow: alt.TopLevelMixin | None = None) -> Path:
    """Write ``chart`` as SVG, PNG (``scale`` times its size, for sharp screens) or an offline HTML page.

    A page shows ``narrow``, when given, instead of ``chart`` on a narrow screen (a phone).
    """
    suffix = check_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".html":
        write_whole(path, page(title, charts(chart, narrow), scripts=f"<script>{vega_script()}</script>"))
    else:
        chart.save(str(path), format="svg" if suffix == ".svg" else "png", scale_factor=scale)
    return path


def vl_version() -> str | None:
    """The Vega-Lite version of Altair's schema, when vl-convert bundles it (else vl-convert's default)."""
    wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return wanted if wanted in vl_convert.get_vegalite_versions() else None


def _header() -> str:
    return (f"// vega-embed {vl_convert.get_vega_embed_version()}, Vega {vl_convert.get_vega_version()}, "
            f"Vega-Lite {vl_version() or 'default'}: bundled by vl-convert {version('vl-convert-python')}\n")


#: The bundle's last line, so a cached copy cut short (a full disk) is told from a whole one.
_END = "\n// end of the bundle\n"


def vega_script() -> str:
    """Vega, Vega-Lite and vega-embed as one classic script that defines ``vegaEmbed``.

    vl-convert takes about two seconds to bundle them, the same text for the same versions: the bundle
    is kept in the user's cache directory, named by those versions, and made again only when they
    change. A cache that cannot be read or written costs that time, never the page.
    """
    header = _header()
    kept = _cache_directory() / f"vega-bundle-{hashlib.sha256((header + GLOBALS).encode()).hexdigest()[:16]}.js"
    try:
        text = kept.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    if text.startswith(header) and text.endswith(_END):
        return text
    text = header + vl_convert.javascript_bundle(GLOBALS, vl_version=vl_version()) + _END
    with contextlib.suppress(OSError):
        write_whole(kept, text)
    return text


def _cache_directory() -> Path:
    """Where the bundle is kept: the user's cache directory (``$XDG_CACHE_HOME/negotiation`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("negotiation"))


def write_vega_script(path: Path) -> Path:
    """Write ``vega_script()`` to ``path``, unless the same bundle is already there."""
    if path.is_file():
        with path.open(encoding="utf-8") as existing:
            if existing.readline() == _header():
                return path
    return write_whole(path, vega_script())


#: What ``script_json`` writes as a JSON escape: ``<`` and ``>`` (no ``</script>``, ``<!--`` or ``<script``
#: can end the script or hide the rest of the page), ``&``, and the line and paragraph separators, which
#: end a line in older JavaScript. Outside strings JSON holds none of them, so escaping them changes no value.
_SCRIPT_UNSAFE = str.maketrans({c: f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"})


def script_json(value: Any) -> str:
    """``value`` as JSON that means the same inside a ``<script>`` element, whatever text it holds."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_UNSAFE)


def spec_json(chart: alt.TopLevelMixin | dict[str, Any]) -> str:
    """The chart's Vega-Lite spec as JSON that is safe inside a ``<script>`` element.

    The spec is not checked against Vega-Lite's schema here (that takes longer
    than everything else a report does); the tests check every chart the
    timeline makes.
    """
    return script_json(chart if isinstance(chart, dict) else chart.to_dict(validate=False))


def embed(target: str, chart: alt.TopLevelMixin) -> str:
    """A script drawing ``chart`` into the element ``target`` (a CSS selector) once the page has vegaEmbed."""
    return (f"<script>vegaEmbed({script_json(target)}, {spec_json(chart)}, {script_json(EMBED_OPTIONS)})"
            f".catch(function (e) {{ document.querySelector({script_json(target)}).textContent = "
            f"'The chart could not be drawn: ' + e; }});</script>")


def charts(chart: alt.TopLevelMixin, narrow: alt.TopLevelMixin | None = None, target: str = "chart") -> str:
    """Where ``chart`` is drawn on a page, and ``narrow`` instead of it on a narrow screen, when given."""
    if narrow is None:
        return f'<div id="{target}" class="chart"></div>{embed("#" + target, chart)}'
    return (f'<div id="{target}" class="chart wide"></div><div id="{target}-narrow" class="chart narrow"></div>'
            + embed("#" + target, chart) + embed(f"#{target}-narrow", narrow))


def page(title: str, body: str, *, scripts: str = "", css: str = "", head: str = "") -> str:
    """A whole HTML page: readable on a phone and a desktop, with the Vega scripts before the body's own.

    ``head``: more of the page's head (a link to its feed).
    """
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"{head}<title>{escape(title)}</title>\n<style>{BASE_CSS}{CHART_CSS}{css}</style>\n{scripts}\n</head>\n"
            f"<body>\n{body}\n<noscript><p>The charts on this page are drawn by JavaScript, which is off; "
            "the tables say the same.</p></noscript>\n</body>\n</html>\n")


BASE_CSS = ("body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;"
            "margin:0 auto;padding:16px;max-width:1240px;color:#1f2933;line-height:1.45}"
            "*,*::before,*::after{box-sizing:border-box}")
