"""The Exact layer must import and work without Odoo (tests/, bench/, the sandbox)."""

import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXACT = ROOT / "chainwise_exact_connector" / "exact"
ALLOWED_TOP = {"requests", "requests_oauthlib", "oauthlib"}

BLOCKER = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "odoo" or name.startswith("odoo."):
            raise ImportError("odoo is blocked in this test")
        return None
sys.meta_path.insert(0, Block())
try:
    import odoo
except ImportError:
    pass
else:
    raise SystemExit("blocker did not work")
import chainwise_exact_connector.exact as exact
assert "odoo" not in sys.modules or sys.modules["odoo"] is None
assert not [m for m in sys.modules if m.startswith("odoo.")]
assert not [m for m in sys.modules if m.startswith("exact_sandbox")]
assert exact.ExactClient and exact.OAuthApp and exact.sales_entry_payload
print("OK", len(exact.__all__))
"""


def test_layer_imports_with_odoo_blocked():
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKER], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OK")


def test_layer_imports_with_odoo_set_to_none():
    code = (
        "import sys; sys.modules['odoo'] = None\n"
        "import chainwise_exact_connector.exact as e\n"
        "print(e.ExactClient.__module__)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "chainwise_exact_connector.exact.client"


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, 0
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", node.level


def test_every_module_imports_only_stdlib_and_the_http_libraries():
    stdlib = set(sys.stdlib_module_names)
    files = sorted(EXACT.glob("*.py"))
    assert len(files) >= 8
    for path in files:
        for module, level in _imports(path):
            if level:  # relative: stays inside exact/
                assert level == 1, f"{path.name} reaches outside exact/: {module}"
                continue
            top = module.split(".")[0]
            assert top in stdlib or top in ALLOWED_TOP, f"{path.name} imports {module}"
