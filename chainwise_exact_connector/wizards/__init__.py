from . import (
    exact_division_create_wizard,
    exact_division_create_wizard_line,
    exact_mapping_check_wizard,
    exact_mapping_check_wizard_line,
    exact_send_wizard,
)
