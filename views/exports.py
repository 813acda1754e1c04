"""The exports of the list pages (issue 14): every row matching the page's filters, with the
page's columns, as Excel (.xlsx) or CSV (UTF-8 with a BOM), streamed by the one writer
records/core/xlsx.py.

A list page exports when its URL carries ``export=xlsx`` or ``export=csv`` (its filters stay as
they are): ``fmt = export_format()``, then ``return export(filename, header, rows, fmt)``. The
template shows the links with ``{% include '_export.html' %}`` (``export_url(fmt)``: this page's
URL with its filters, no page number, and the format).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import Response, request, stream_with_context, url_for

from records.core.xlsx import CSV_MIMETYPE, XLSX_MIMETYPE, stream_csv, stream_xlsx

from .common import content_disposition

FORMATS = {"xlsx": XLSX_MIMETYPE, "csv": CSV_MIMETYPE + "; charset=utf-8"}


def export_format() -> str | None:
    """The export the request asks for ("xlsx" | "csv"), or None: show the page."""
    fmt = request.args.get("export", "")
    return fmt if fmt in FORMATS else None


def export(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]], fmt: str,
           widths: Sequence[float | None] = ()) -> Response:
    """A streamed download of ``header`` and ``rows`` as ``filename``.xlsx / .csv (``fmt``)."""
    name = f"{filename}.{fmt}"
    if fmt == "xlsx":
        body = stream_xlsx(filename[:31] or "Sheet", header, rows, widths)
    else:
        body = stream_csv(header, rows)
    ascii_name = "export." + fmt
    return Response(stream_with_context(body), mimetype=FORMATS[fmt],
                    headers={"Content-Disposition": content_disposition(name, ascii_name), "Cache-Control": "no-store"})


def export_url(fmt: str) -> str:
    """This page's URL with its filters (not its page number) and ``export=fmt``."""
    args = {k: v for k, v in request.args.lists() if k not in ("page", "export")}
    return url_for(request.endpoint, **(request.view_args or {}), **args, export=fmt)


def init_app(app) -> None:
    app.jinja_env.globals["export_url"] = export_url
