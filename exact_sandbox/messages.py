"""Exact's error texts, Dutch and English (``--language nl|en``)."""

from __future__ import annotations

# field labels as Exact prints them: name -> (nl, en)
LABELS = {
    "Name": ("Naam", "Name"),
    "Code": ("Code", "Code"),
    "Description": ("Omschrijving", "Description"),
    "Account": ("Relatie", "Account"),
    "LastName": ("Achternaam", "Last name"),
    "Customer": ("Klant", "Customer"),
    "CustomerType": ("Klant (Type)", "Customer (Type)"),
    "Journal": ("Dagboek", "Journal"),
    "JournalType": ("Dagboek (Type)", "Journal (Type)"),
    "Journals": ("Journals", "Journals"),
    "Lines": ("Regels", "Lines"),
    "GLAccount": ("Grootboekrekening", "G/L account"),
    "GLAccountType": ("Grootboekrekeningtype", "G/L account type"),
    "Amount": ("Bedrag", "Amount"),
    "VATCode": ("Btw-code", "VAT code"),
    "PaymentCondition": ("Betalingsconditie", "Payment condition"),
    "Document": ("Document", "Document"),
    "EntryNumber": ("Boekstuknummer", "Entry number"),
    "Subject": ("Onderwerp", "Subject"),
    "Type": ("Type", "Type"),
    "FileName": ("Bestandsnaam", "File name"),
    "Attachment": ("Bijlage", "Attachment"),
    "Entry": ("Boeking", "Entry"),
    "Currency": ("Valuta", "Currency"),
    "Rate": ("Koers", "Rate"),
}

TEXTS = {
    "mandatory": ("Verplicht: {0}", "Mandatory: {0}"),
    "invalid_reference": ("Ongeldige referentie: {0}", "Invalid reference: {0}"),
    "invalid": ("Ongeldig: {0}", "Invalid: {0}"),
    "already_exists": ("Gegeven bestaat reeds", "Already exists"),
    "in_use": ("In gebruik: {0}", "In use: {0}"),
    "period_closed": ("Periode is afgesloten: {0} - {1}", "Period is closed: {0} - {1}"),
    "unknown_fiscal_year": (
        "Onbekend: Boekjaar (Periode - datumtabel)",
        "Unknown: Fiscal year (Period - date table)",
    ),
    "cannot_delete": (
        "Kan niet verwijderen: {0} - In gebruik in: {1}",
        "Can't delete: {0} - Used in: {1}",
    ),
    "not_found": ("Niet gevonden: {0}", "Not found: {0}"),
}


class Messages:
    def __init__(self, language: str = "nl"):
        self.language = language if language in ("nl", "en") else "nl"

    def _i(self) -> int:
        return 0 if self.language == "nl" else 1

    def label(self, name: str) -> str:
        pair = LABELS.get(name)
        return pair[self._i()] if pair else name

    def text(self, key: str, *args) -> str:
        return TEXTS[key][self._i()].format(*args)

    def mandatory(self, field: str) -> str:
        return self.text("mandatory", self.label(field))

    def invalid_reference(self, field: str) -> str:
        return self.text("invalid_reference", self.label(field))

    def invalid(self, field: str) -> str:
        return self.text("invalid", self.label(field))
