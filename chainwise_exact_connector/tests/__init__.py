# part 1: test_connection, test_oauth_flow, test_master_data, test_mappings, test_security
# part 2: test_export_*
from . import (
    test_connection,
    test_export_errors,
    test_export_faults,
    test_export_invoice,
    test_export_null,
    test_export_partner,
    test_export_ui,
    test_mappings,
    test_master_data,
    test_oauth_flow,
    test_reliability,
    test_security,
)
