{
    "name": "Exact Online Connector (ChainWise)",
    "summary": "Export customers, contacts and posted sales invoices to Exact Online",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/chainwise/chainwise_exact_connector",
    "author": "ChainWise Exact Connector developers",
    "license": "LGPL-3",
    "depends": ["account", "mail"],
    "external_dependencies": {"python": ["requests", "requests-oauthlib"]},
    "data": [
        "security/exact_security.xml",
        "security/ir.model.access.csv",
        "security/exact_rules.xml",
    ],
    "post_init_hook": "post_init_hook",
    "installable": True,
    "application": False,
}
