from . import (
    test_export_errors,
    test_export_faults,
    test_export_invoice,
    test_export_null,
    test_export_partner,
    test_export_ui,
)
from . import test_connection, test_oauth_flow  # part 1: keep this line
from . import test_master_data  # part 1
from . import test_mappings  # part 1
from . import test_security  # part 1
