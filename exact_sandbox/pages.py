"""HTML pages: the consent screen, error pages and the ``/sandbox`` overview."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape

STYLE = """<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:.2em .5em;font-size:.9em;text-align:left}
th{background:#eee} .num{text-align:right} .s2{color:#070} .s4{color:#a60} .s5{color:#b00}
button{font-size:1em;padding:.4em 1.2em;margin-right:1em}
</style>"""


def _page(title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"{STYLE}</head><body>{body}</body></html>"
    )


def consent_page(
    app_name: str, client_id: str, redirect_uri: str, state: str | None, divisions: list[dict]
) -> str:
    rows = "".join(
        f"<li><label><input type='checkbox' name='division' value='{d['Code']}' checked> "
        f"{d['Code']} {escape(d['Description'])}</label></li>"
        for d in divisions
    )
    hidden = "".join(
        f"<input type='hidden' name='{k}' value='{escape(v or '', quote=True)}'>"
        for k, v in (
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("state", state),
            ("response_type", "code"),
        )
        if v is not None
    )
    body = (
        f"<h1>Exact Online (sandbox)</h1><p>The app <b>{escape(app_name)}</b> "
        f"(client id <code>{escape(client_id)}</code>) asks for access to your data.</p>"
        f"<p>It will reach these divisions:</p>"
        f"<form method='post' action='/api/oauth2/auth'>{hidden}<ul>{rows}</ul>"
        f"<button type='submit' name='decision' value='approve'>Approve</button>"
        f"<button type='submit' name='decision' value='deny'>Deny</button></form>"
    )
    return _page("Exact Online - Authorize", body)


def error_page(title: str, text: str) -> str:
    return _page(title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p>")


def html500_page() -> str:
    return _page(
        "Runtime Error",
        "<h1>Server Error in '/' Application.</h1>"
        "<h2><i>Runtime Error</i></h2><p>An application error occurred on the server."
        "</p>",
    )


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return escape(str(value))


def _table(rows: list[dict], columns: list[str]) -> str:
    if not rows:
        return "<p><i>none</i></p>"
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = ""
    for r in rows:
        cells = "".join(
            f"<td class='{'num' if isinstance(r.get(c), (int, float)) else ''}'>"
            f"{_fmt(r.get(c))}</td>"
            for c in columns
        )
        body += f"<tr>{cells}</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


def overview_page(state: dict) -> str:
    now = datetime.fromtimestamp(state["now"], timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    cfg = state["config"]
    out = [
        f"<h1>Exact Online sandbox</h1><p>Base URL <code>{escape(state['base_url'])}</code>"
        f" &middot; clock {now} &middot; app <code>{escape(state['app']['client_id'])}</code>"
        f" &middot; language {escape(cfg['language'])} &middot; limits "
        f"{cfg['minutely_limit']}/min, {cfg['daily_limit']}/day &middot; refuse zero entries "
        f"{cfg['refuse_zero_entries']}</p>"
    ]
    if state["faults"]:
        out.append(
            "<h2>Active faults</h2>"
            + _table(state["faults"], ["id", "rule", "matched", "fired", "spent"])
        )
    for code, div in state["divisions"].items():
        out.append(f"<h2>{code} {escape(div['Description'])}</h2>")
        if div.get("closed_before"):
            out.append(f"<p>Periods before {escape(div['closed_before'])} are closed.</p>")
        out.append(
            "<h3>Accounts</h3>"
            + _table(
                div["Accounts"],
                [
                    "Code",
                    "Name",
                    "Status",
                    "VATNumber",
                    "ChamberOfCommerce",
                    "Email",
                    "City",
                    "Country",
                    "ID",
                ],
            )
        )
        out.append(
            "<h3>Contacts</h3>"
            + _table(div["Contacts"], ["FirstName", "LastName", "Email", "Account", "ID"])
        )
        out.append("<h3>Sales entries</h3>")
        lines_by_entry: dict = {}
        for line in div["SalesEntryLines"]:
            lines_by_entry.setdefault(line["EntryID"], []).append(line)
        if not div["SalesEntries"]:
            out.append("<p><i>none</i></p>")
        for e in div["SalesEntries"]:
            out.append(
                _table(
                    [e],
                    [
                        "Journal",
                        "EntryNumber",
                        "EntryDate",
                        "YourRef",
                        "Description",
                        "Customer",
                        "AmountFC",
                        "VATAmountFC",
                        "AmountDC",
                        "Currency",
                        "Type",
                        "PaymentCondition",
                        "Document",
                        "EntryID",
                    ],
                )
            )
            out.append(
                "<div style='margin-left:2em'>"
                + _table(
                    lines_by_entry.get(e["EntryID"], []),
                    [
                        "LineNumber",
                        "GLAccount",
                        "Description",
                        "AmountFC",
                        "VATCode",
                        "VATAmountFC",
                        "Quantity",
                    ],
                )
                + "</div>"
            )
        out.append(
            "<h3>Documents</h3>"
            + _table(
                div["Documents"],
                [
                    "HID",
                    "Subject",
                    "Type",
                    "Account",
                    "DocumentDate",
                    "FinancialTransactionEntryID",
                    "ID",
                ],
            )
        )
        out.append(
            "<h3>Document attachments</h3>"
            + _table(div["DocumentAttachments"], ["FileName", "FileSize", "Document", "ID"])
        )
    out.append("<h2>Recent requests</h2>")
    reqs = []
    for r in reversed(state["requests"]):
        row = dict(r)
        row["time"] = datetime.fromtimestamp(r["ts"], timezone.utc).strftime("%H:%M:%S")
        reqs.append(row)
    if reqs:
        head = "<tr><th>time</th><th>method</th><th>path</th><th>status</th><th>fault</th></tr>"
        body = "".join(
            f"<tr><td>{r['time']}</td><td>{r['method']}</td><td>{escape(r['path'])}"
            f"{escape('?' + r['query']) if r.get('query') else ''}</td>"
            f"<td class='s{str(r['status'])[:1]}'>{r['status']}</td>"
            f"<td>{escape(r.get('fault') or '')}</td></tr>"
            for r in reqs
        )
        out.append(f"<table>{head}{body}</table>")
    else:
        out.append("<p><i>none</i></p>")
    return _page("Exact Online sandbox", "".join(out))
