try:
    import odoo  # noqa: F401
except ImportError:  # the pure Exact layer (exact/) is imported without Odoo by tests/ and bench/
    odoo = None

if odoo is not None:
    from . import controllers, models, wizards  # noqa: F401
    from .hooks import post_init_hook  # noqa: F401
