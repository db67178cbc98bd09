"""The Exact entities the sandbox serves: their paths, properties, types and query rules.

Property spec: ``name: (edm_type, mode)`` where mode is ``"w"`` (accepted on POST and
PUT), ``"p"`` (accepted on POST only), ``"r"`` (read-only: accepted in a body but
ignored, as Exact does). Unknown properties in a body are a 400, as in Exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

S, G, I32, I16, DBL, B, DT, D = (
    "Edm.String",
    "Edm.Guid",
    "Edm.Int32",
    "Edm.Int16",
    "Edm.Double",
    "Edm.Boolean",
    "Edm.DateTime",
    "Date",  # "Date": an Edm.DateTime holding a date (midnight)
)


@dataclass
class Entity:
    name: str  # "Accounts"
    service: str  # "crm"
    type_name: str  # "Account" -> Exact.Web.Api.Models.Account
    key: str  # "ID"
    props: dict  # name -> (edm, mode)
    methods: tuple = ("GET", "POST", "PUT", "DELETE")
    filterable: tuple = ()  # properties allowed in $filter
    mandatory_filter: bool = False  # unfiltered GET refused
    navigation: dict = field(default_factory=dict)  # nav property -> child entity name
    key_edm: str = G
    indexed: tuple = ()  # stored fields with a secondary index (table.py), set below

    @property
    def path(self) -> str:
        return f"{self.service}/{self.name}"

    @property
    def metadata_type(self) -> str:
        return f"Exact.Web.Api.Models.{self.type_name}"

    def edm(self, prop: str) -> str:
        t = self.props.get(prop, (S,))[0]
        return DT if t == D else t

    @property
    def edm_types(self) -> dict:
        return {k: self.edm(k) for k in self.props}


def _p(**kw) -> dict:
    return dict(kw)


ACCOUNTS = Entity(
    "Accounts",
    "crm",
    "Account",
    "ID",
    _p(
        ID=(G, "p"),
        Code=(S, "w"),
        Name=(S, "w"),
        SearchCode=(S, "w"),
        Status=(S, "w"),
        Type=(S, "r"),
        IsSales=(B, "r"),
        IsSupplier=(B, "w"),
        IsPurchase=(B, "r"),
        VATNumber=(S, "w"),
        ChamberOfCommerce=(S, "w"),
        Email=(S, "w"),
        Phone=(S, "w"),
        PhoneExtension=(S, "w"),
        Website=(S, "w"),
        AddressLine1=(S, "w"),
        AddressLine2=(S, "w"),
        AddressLine3=(S, "w"),
        Postcode=(S, "w"),
        City=(S, "w"),
        State=(S, "w"),
        Country=(S, "w"),
        CountryName=(S, "r"),
        PaymentConditionSales=(S, "w"),
        PaymentConditionSalesDescription=(S, "r"),
        SalesVATCode=(S, "w"),
        SalesCurrency=(S, "w"),
        Language=(S, "w"),
        MainContact=(G, "w"),
        Blocked=(B, "w"),
        Remarks=(S, "w"),
        StartDate=(D, "w"),
        EndDate=(D, "w"),
        Created=(DT, "r"),
        Modified=(DT, "r"),
        Division=(I32, "r"),
    ),
    filterable=(
        "ID",
        "Code",
        "Name",
        "SearchCode",
        "VATNumber",
        "ChamberOfCommerce",
        "Email",
        "Status",
        "City",
        "Postcode",
        "Country",
        "Phone",
        "Website",
        "IsSales",
        "IsSupplier",
        "Blocked",
        "MainContact",
        "Created",
        "Modified",
    ),
    mandatory_filter=True,
)

CONTACTS = Entity(
    "Contacts",
    "crm",
    "Contact",
    "ID",
    _p(
        ID=(G, "p"),
        Account=(G, "w"),
        AccountName=(S, "r"),
        AccountIsCustomer=(B, "r"),
        FirstName=(S, "w"),
        MiddleName=(S, "w"),
        LastName=(S, "w"),
        FullName=(S, "r"),
        Initials=(S, "w"),
        Title=(S, "w"),
        Email=(S, "w"),
        BusinessEmail=(S, "w"),
        Phone=(S, "w"),
        BusinessPhone=(S, "w"),
        Mobile=(S, "w"),
        BusinessMobile=(S, "w"),
        JobTitleDescription=(S, "w"),
        Gender=(S, "w"),
        Language=(S, "w"),
        Notes=(S, "w"),
        IsMainContact=(B, "r"),
        StartDate=(D, "w"),
        EndDate=(D, "w"),
        Created=(DT, "r"),
        Modified=(DT, "r"),
        Division=(I32, "r"),
    ),
    filterable=(
        "ID",
        "Account",
        "Email",
        "BusinessEmail",
        "FirstName",
        "LastName",
        "FullName",
        "Phone",
        "Mobile",
        "Created",
        "Modified",
    ),
)

GLACCOUNTS = Entity(
    "GLAccounts",
    "financial",
    "GLAccount",
    "ID",
    _p(
        ID=(G, "p"),
        Code=(S, "w"),
        Description=(S, "w"),
        SearchCode=(S, "w"),
        Type=(I32, "w"),
        TypeDescription=(S, "r"),
        BalanceSide=(S, "w"),
        BalanceType=(S, "w"),
        VATCode=(S, "w"),
        IsBlocked=(B, "w"),
        Created=(DT, "r"),
        Modified=(DT, "r"),
        Division=(I32, "r"),
    ),
    filterable=(
        "ID",
        "Code",
        "Description",
        "Type",
        "BalanceType",
        "IsBlocked",
        "VATCode",
        "Created",
        "Modified",
    ),
)

JOURNALS = Entity(
    "Journals",
    "financial",
    "Journal",
    "ID",
    _p(
        ID=(G, "p"),
        Code=(S, "w"),
        Description=(S, "w"),
        Type=(I32, "w"),
        TypeDescription=(S, "r"),
        Currency=(S, "w"),
        AllowVariableCurrency=(B, "w"),
        IsBlocked=(B, "w"),
        Created=(DT, "r"),
        Modified=(DT, "r"),
        Division=(I32, "r"),
    ),
    filterable=("ID", "Code", "Description", "Type", "IsBlocked"),
)

VATCODES = Entity(
    "VATCodes",
    "vat",
    "VATCode",
    "ID",
    _p(
        ID=(G, "p"),
        Code=(S, "w"),
        Description=(S, "w"),
        Percentage=(DBL, "r"),
        Type=(S, "w"),
        VATTransactionType=(S, "w"),
        EUSalesListing=(S, "w"),
        Charged=(B, "w"),
        IsBlocked=(B, "w"),
        Created=(DT, "r"),
        Modified=(DT, "r"),
        Division=(I32, "r"),
    ),
    filterable=(
        "ID",
        "Code",
        "Description",
        "Percentage",
        "Type",
        "VATTransactionType",
        "EUSalesListing",
        "IsBlocked",
    ),
)

PAYMENTCONDITIONS = Entity(
    "PaymentConditions",
    "cashflow",
    "PaymentCondition",
    "ID",
    _p(
        ID=(G, "p"),
        Code=(S, "w"),
        Description=(S, "w"),
        PaymentDays=(I32, "w"),
        PaymentEndOfMonths=(I32, "w"),
        PaymentMethod=(S, "w"),
        DiscountPaymentDays=(I32, "w"),
        DiscountPercentage=(DBL, "w"),
        Created=(DT, "r"),
        Modified=(DT, "r"),
        Division=(I32, "r"),
    ),
    methods=("GET", "POST"),
    filterable=("ID", "Code", "Description", "PaymentDays"),
)

SALESENTRYLINES = Entity(
    "SalesEntryLines",
    "salesentry",
    "SalesEntryLine",
    "ID",
    _p(
        ID=(G, "p"),
        EntryID=(G, "p"),
        LineNumber=(I32, "r"),
        GLAccount=(G, "w"),
        GLAccountCode=(S, "r"),
        GLAccountDescription=(S, "r"),
        AmountFC=(DBL, "w"),
        AmountDC=(DBL, "r"),
        VATCode=(S, "w"),
        VATCodeDescription=(S, "r"),
        VATPercentage=(DBL, "r"),
        VATAmountFC=(DBL, "w"),
        VATAmountDC=(DBL, "r"),
        VATBaseAmountFC=(DBL, "w"),
        VATBaseAmountDC=(DBL, "r"),
        Description=(S, "w"),
        Quantity=(DBL, "w"),
        CostCenter=(S, "w"),
        CostUnit=(S, "w"),
        Notes=(S, "w"),
        Type=(I32, "r"),
        Division=(I32, "r"),
    ),
    filterable=("ID", "EntryID", "GLAccount", "VATCode", "CostCenter"),
)

SALESENTRIES = Entity(
    "SalesEntries",
    "salesentry",
    "SalesEntry",
    "EntryID",
    _p(
        EntryID=(G, "p"),
        Customer=(G, "w"),
        CustomerName=(S, "r"),
        Journal=(S, "p"),
        JournalDescription=(S, "r"),
        EntryDate=(D, "w"),
        EntryNumber=(I32, "w"),
        InvoiceNumber=(I32, "w"),
        YourRef=(S, "w"),
        Description=(S, "w"),
        Currency=(S, "p"),
        Rate=(DBL, "p"),
        PaymentCondition=(S, "w"),
        PaymentConditionDescription=(S, "r"),
        DueDate=(D, "w"),
        PaymentReference=(S, "w"),
        Document=(G, "w"),
        DocumentSubject=(S, "r"),
        ReportingYear=(I16, "w"),
        ReportingPeriod=(I16, "w"),
        AmountDC=(DBL, "r"),
        AmountFC=(DBL, "r"),
        VATAmountDC=(DBL, "r"),
        VATAmountFC=(DBL, "r"),
        Type=(I32, "r"),
        TypeDescription=(S, "r"),
        Status=(I16, "r"),
        StatusDescription=(S, "r"),
        SalesEntryLines=("Nav", "p"),
        Created=(DT, "r"),
        Modified=(DT, "r"),
        Division=(I32, "r"),
    ),
    filterable=(
        "EntryID",
        "EntryNumber",
        "InvoiceNumber",
        "Journal",
        "YourRef",
        "Customer",
        "EntryDate",
        "Description",
        "ReportingYear",
        "ReportingPeriod",
        "Status",
        "Document",
        "Created",
        "Modified",
    ),
    navigation={"SalesEntryLines": "SalesEntryLines"},
)

DOCUMENTS = Entity(
    "Documents",
    "documents",
    "Document",
    "ID",
    _p(
        ID=(G, "p"),
        Subject=(S, "w"),
        Type=(I32, "w"),
        TypeDescription=(S, "r"),
        Account=(G, "w"),
        AccountCode=(S, "r"),
        AccountName=(S, "r"),
        Contact=(G, "w"),
        DocumentDate=(D, "w"),
        Body=(S, "w"),
        Category=(G, "w"),
        FinancialTransactionEntryID=(G, "w"),
        SalesInvoiceNumber=(I32, "w"),
        Currency=(S, "w"),
        AmountFC=(DBL, "w"),
        Language=(S, "w"),
        HID=(I32, "r"),
        HasEmptyBody=(B, "r"),
        DocumentViewUrl=(S, "r"),
        Created=(DT, "r"),
        Modified=(DT, "r"),
        Division=(I32, "r"),
    ),
    filterable=(
        "ID",
        "Subject",
        "Type",
        "Account",
        "DocumentDate",
        "FinancialTransactionEntryID",
        "HID",
        "Created",
        "Modified",
    ),
)

DOCUMENTATTACHMENTS = Entity(
    "DocumentAttachments",
    "documents",
    "DocumentAttachment",
    "ID",
    _p(
        ID=(G, "p"),
        Document=(G, "p"),
        FileName=(S, "p"),
        FileSize=(DBL, "r"),
        Attachment=("Edm.Binary", "p"),
        Url=(S, "r"),
        Division=(I32, "r"),
    ),
    methods=("GET", "POST", "DELETE"),
    filterable=("ID", "Document", "FileName"),
)

DIVISIONS = Entity(
    "Divisions",
    "system",
    "Division",
    "Code",
    _p(
        Code=(I32, "r"),
        Description=(S, "r"),
        HID=(I32, "r"),
        Customer=(G, "r"),
        CustomerName=(S, "r"),
        Country=(S, "r"),
        Currency=(S, "r"),
        VATNumber=(S, "r"),
        ChamberOfCommerce=(S, "r"),
        Status=(I32, "r"),
        Main=(B, "r"),
        Started=(DT, "r"),
        Created=(DT, "r"),
        Modified=(DT, "r"),
    ),
    methods=("GET",),
    filterable=("Code", "Description", "HID", "Status", "Main"),
    key_edm=I32,
)

ALL = [
    ACCOUNTS,
    CONTACTS,
    GLACCOUNTS,
    JOURNALS,
    VATCODES,
    PAYMENTCONDITIONS,
    SALESENTRIES,
    SALESENTRYLINES,
    DOCUMENTS,
    DOCUMENTATTACHMENTS,
    DIVISIONS,
]
BY_NAME = {e.name: e for e in ALL}
BY_PATH = {e.path.lower(): e for e in ALL}
# EXACT_API.md: "Divisions the user can reach: system/Divisions or hrm/Divisions"
HRM_DIVISIONS = replace(DIVISIONS, service="hrm")
BY_PATH[HRM_DIVISIONS.path.lower()] = HRM_DIVISIONS

# Fields of stored records with a secondary index (see table.py): the lookups a client makes
# ($filter on them, alone or joined by and/or) and the ones the rules make (codes, an entry's
# lines, entry numbers) cost O(1), not a scan. Only fields whose served value equals the
# stored one up to blanks and case (no dates, nothing derived).
INDEXED = {
    "Accounts": ("Code", "Name", "SearchCode", "VATNumber", "ChamberOfCommerce", "Email"),
    "Contacts": ("Account", "Email"),
    "GLAccounts": ("Code",),
    "Journals": ("Code",),
    "VATCodes": ("Code",),
    "PaymentConditions": ("Code",),
    "SalesEntries": ("Journal", "EntryNumber", "InvoiceNumber", "YourRef", "Customer", "Document"),
    "SalesEntryLines": ("EntryID",),
    "Documents": ("Account", "FinancialTransactionEntryID"),
    "DocumentAttachments": ("Document",),
}
for _entity in ALL:
    _entity.indexed = INDEXED.get(_entity.name, ())
# entities stored per division (Divisions are served from the division list itself)
STORED = [e.name for e in ALL if e.name != "Divisions"]
