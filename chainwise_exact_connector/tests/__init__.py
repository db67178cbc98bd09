from . import test_export_invoice, test_export_partner
from . import test_connection  # part 1
