"""Seed data: the demo divisions and their master data, with deterministic GUIDs.

``seed_guid(100001, "GLAccounts", "8000")`` gives the ID of GL account 8000 in
division 100001 (uuid5), so tests can refer to seed records without a lookup.
VAT percentages are fractions (0.21 for 21 %), see README.
"""

from __future__ import annotations

import uuid

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/chainwise/exact_sandbox")

DEMO_DIVISIONS = [
    (100001, "ChainWise Demo B.V.", "NL001234567B01", "87654321"),
    (100002, "ChainWise Zorg B.V.", "NL002345678B01", "87654322"),
]
DEMO_CUSTOMER_CODE = "1000"
DEMO_CUSTOMER = {
    "Name": "Van Dijk Bouw B.V.",
    "Status": "C",
    "VATNumber": "NL123456789B01",
    "ChamberOfCommerce": "12345678",
    "Email": "administratie@vandijkbouw.example",
    "Phone": "030-1234567",
    "AddressLine1": "Stationsplein 1",
    "Postcode": "3511 ED",
    "City": "Utrecht",
    "Country": "NL",
    "Language": "NL",
    "PaymentConditionSales": "30",
}
GL_ACCOUNTS = [
    ("8000", "Omzet hoog", 110, "2"),
    ("8010", "Omzet laag", 110, "1"),
    ("8020", "Omzet vrijgesteld", 110, "0"),
    ("8100", "Omzet binnen EU", 110, "4"),
    ("8200", "Omzet buiten EU", 110, "5"),
    ("8999", "Nulfacturen", 110, "0"),
    ("1300", "Debiteuren", 20, None),
    ("1500", "Af te dragen btw", 24, None),
]
# code, description, percentage (fraction), type, transaction type, EU sales listing
VAT_CODES = [
    ("0", "Geen btw", 0.0, "N", "S", "N"),
    ("1", "Btw laag 9%", 0.09, "E", "S", "N"),
    ("2", "Btw hoog 21%", 0.21, "E", "S", "N"),
    ("4", "Intracommunautaire levering 0%", 0.0, "B", "S", "L"),
    ("5", "Export buiten EU 0%", 0.0, "B", "S", "N"),
    ("6", "Voorbelasting hoog 21% (inkoop)", 0.21, "E", "P", "N"),
]
PAYMENT_CONDITIONS = [
    ("00", "Contant", 0),
    ("7", "Binnen 7 dagen", 7),
    ("14", "Binnen 14 dagen", 14),
    ("30", "Binnen 30 dagen", 30),
]
JOURNALS = [("70", "Verkoopboek", 20), ("20", "Bank", 12), ("90", "Memoriaal", 90)]
SEED_TIMESTAMP = "2026-01-01T09:00:00.000"


def seed_guid(division: int, entity: str, code: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{division}/{entity}/{code}"))


def _division(code: int, description: str, vat: str, coc: str, main: bool) -> dict:
    return {
        "Code": code,
        "Description": description,
        "HID": code,
        "Country": "NL",
        "Currency": "EUR",
        "VATNumber": vat,
        "ChamberOfCommerce": coc,
        "Main": main,
        "Status": 1,
        "Customer": seed_guid(code, "Division", "customer"),
        "CustomerName": description,
        "Started": "2020-01-01T00:00:00.000",
        "Created": SEED_TIMESTAMP,
        "Modified": SEED_TIMESTAMP,
        "closed_before": None,
        "default_payment_condition": None,
        "fiscal_years": [2000, 2099],
        "seq": {},
        "tables": {},
    }


def build(seed: str = "demo") -> dict:
    """Division data for a seed: ``demo`` (master data + one customer) or ``empty``."""
    if seed not in ("demo", "empty"):
        raise ValueError(f"unknown seed {seed!r} (demo or empty)")
    divisions = {}
    for i, (code, description, vat, coc) in enumerate(DEMO_DIVISIONS):
        div = _division(code, description, vat, coc, i == 0)
        divisions[str(code)] = div
        if seed == "empty":
            continue
        div["default_payment_condition"] = "30"
        t = div["tables"]
        stamp = {"Created": SEED_TIMESTAMP, "Modified": SEED_TIMESTAMP}
        t["GLAccounts"] = {}
        for gl_code, desc, typ, vat_code in GL_ACCOUNTS:
            gid = seed_guid(code, "GLAccounts", gl_code)
            t["GLAccounts"][gid] = {
                "ID": gid,
                "Code": gl_code,
                "Description": desc,
                "Type": typ,
                "BalanceType": "W" if typ == 110 else "B",
                "BalanceSide": "C" if typ in (110, 24) else "D",
                "VATCode": vat_code,
                "IsBlocked": False,
                **stamp,
            }
        t["VATCodes"] = {}
        for vcode, desc, pct, typ, ttype, eu in VAT_CODES:
            gid = seed_guid(code, "VATCodes", vcode)
            t["VATCodes"][gid] = {
                "ID": gid,
                "Code": vcode,
                "Description": desc,
                "Percentage": pct,
                "Type": typ,
                "VATTransactionType": ttype,
                "EUSalesListing": eu,
                "Charged": False,
                "IsBlocked": False,
                **stamp,
            }
        t["PaymentConditions"] = {}
        for pcode, desc, days in PAYMENT_CONDITIONS:
            gid = seed_guid(code, "PaymentConditions", pcode)
            t["PaymentConditions"][gid] = {
                "ID": gid,
                "Code": pcode,
                "Description": desc,
                "PaymentDays": days,
                "PaymentEndOfMonths": 0,
                "PaymentMethod": "B",
                **stamp,
            }
        t["Journals"] = {}
        for jcode, desc, typ in JOURNALS:
            gid = seed_guid(code, "Journals", jcode)
            t["Journals"][gid] = {
                "ID": gid,
                "Code": jcode,
                "Description": desc,
                "Type": typ,
                "Currency": "EUR",
                "AllowVariableCurrency": typ == 20,
                "IsBlocked": False,
                **stamp,
            }
        gid = seed_guid(code, "Accounts", DEMO_CUSTOMER_CODE)
        t["Accounts"] = {
            gid: {"ID": gid, "Code": DEMO_CUSTOMER_CODE.rjust(18), **DEMO_CUSTOMER, **stamp}
        }
    return divisions
