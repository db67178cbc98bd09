"""The addon's translations: i18n/chainwise_exact_connector.pot and the Dutch i18n/nl.po.

Runs without Odoo. Both files are exported by Odoo itself, on a database with the addon
installed and nl_NL loaded:

    odoo-bin -d DB --i18n-export=chainwise_exact_connector.pot --modules=chainwise_exact_connector
    odoo-bin -d DB --i18n-export=nl.po -l nl_NL --modules=chainwise_exact_connector

These tests catch a forgotten re-export, an untranslated or fuzzy entry, and a translation that
lost or renamed a placeholder or an HTML tag.
"""

import ast
import collections
import pathlib
import re

import polib
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
ADDON = ROOT / "chainwise_exact_connector"
MODULE = ADDON.name
POT = ADDON / "i18n" / f"{MODULE}.pot"
NL = ADDON / "i18n" / "nl.po"

# printf placeholders as Python and Odoo's _() use them: %(name)s, %s, %d, %.2f ...; "%%" is a
# literal percent sign and "21 %." or "50 % of" is not a placeholder.
PLACEHOLDER = re.compile(r"%(?:\([^)\s]+\))?[#0+-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa]")
# str.format / QWeb style placeholders such as {name} or {0}
BRACES = re.compile(r"\{[A-Za-z_0-9.\[\]]*\}")
TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def placeholders(text):
    text = text.replace("%%", "")
    return collections.Counter(PLACEHOLDER.findall(text) + BRACES.findall(text))


def tags(text):
    # the tag with its attributes, whitespace-normalised: a translation keeps them verbatim
    return collections.Counter(" ".join(t.split()) for t in TAG.findall(text))


@pytest.fixture(scope="module")
def pot():
    return polib.pofile(str(POT))


@pytest.fixture(scope="module")
def nl():
    return polib.pofile(str(NL))


def _ids(po):
    return [(e.msgctxt, e.msgid) for e in po if not e.obsolete]


def test_files_parse_and_hold_entries(pot, nl):
    assert len(_ids(pot)) > 100
    assert nl.metadata.get("Content-Type", "").endswith("charset=UTF-8")
    assert nl.metadata.get("Language") == "nl"
    for po in (pot, nl):
        assert not [e.msgid for e in po if e.msgid_plural], "plural entries are not expected"


def test_no_duplicate_entries(pot, nl):
    for po in (pot, nl):
        dupes = [k for k, n in collections.Counter(_ids(po)).items() if n > 1]
        assert not dupes, f"{po.fpath}: duplicate msgids {dupes}"


def test_every_entry_names_the_module(pot, nl):
    # Odoo loads a term for the modules named in its "#. module:" comment only
    for po in (pot, nl):
        orphans = [e.msgid for e in po if f"module: {MODULE}" not in (e.comment or "")]
        assert not orphans, f"{po.fpath}: entries without '#. module: {MODULE}': {orphans}"


def test_pot_has_no_translations(pot):
    assert not [e.msgid for e in pot if e.msgstr]


def test_nl_matches_the_template(pot, nl):
    pot_ids, nl_ids = set(_ids(pot)), set(_ids(nl))
    assert not pot_ids - nl_ids, f"in the .pot but not in nl.po: {sorted(pot_ids - nl_ids)}"
    assert not nl_ids - pot_ids, f"in nl.po but not in the .pot: {sorted(nl_ids - pot_ids)}"


def test_every_entry_is_translated(nl):
    empty = [e.msgid for e in nl if not e.obsolete and not e.msgstr.strip()]
    assert not empty, f"{len(empty)} untranslated: {empty}"


def test_no_fuzzy_or_obsolete_entries(nl):
    assert not [e.msgid for e in nl if "fuzzy" in e.flags]
    assert not [e.msgid for e in nl if e.obsolete]


def test_placeholders_are_kept(nl):
    wrong = [
        (e.msgid, e.msgstr)
        for e in nl
        if e.msgstr and placeholders(e.msgid) != placeholders(e.msgstr)
    ]
    assert not wrong, "placeholders differ between msgid and msgstr:\n" + "\n".join(
        f"  {i!r}\n  -> {s!r}" for i, s in wrong
    )


def test_html_tags_are_kept(nl):
    wrong = [(e.msgid, e.msgstr) for e in nl if e.msgstr and tags(e.msgid) != tags(e.msgstr)]
    assert not wrong, f"HTML tags differ between msgid and msgstr: {wrong}"


def test_leading_and_trailing_newlines_are_kept(nl):
    # what `msgfmt -c` checks as well
    wrong = [
        e.msgid
        for e in nl
        if e.msgstr
        and (
            e.msgid.startswith("\n") != e.msgstr.startswith("\n")
            or e.msgid.endswith("\n") != e.msgstr.endswith("\n")
        )
    ]
    assert not wrong


def test_placeholder_pattern():
    assert placeholders("%(count)s of %s, %d and %.2f; 21 %. 50 % of 100%%") == collections.Counter(
        ["%(count)s", "%s", "%d", "%.2f"]
    )
    assert placeholders("Hello {name}") == collections.Counter(["{name}"])


# --- the template is up to date with the Python sources --------------------------------------


def _translated_literals(path):
    """The literal strings passed to _(...), _lt(...) or <anything>._(...) (self.env._) in a
    Python file, as Odoo's exporter (Babel with the keywords _ and _lt) finds them."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else func.attr
            if isinstance(func, ast.Attribute)
            else None
        )
        if name not in ("_", "_lt"):
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.append((first.value, node.lineno))
    return found


def _source_terms():
    terms = []
    for path in sorted(ADDON.rglob("*.py")):
        for text, lineno in _translated_literals(path):
            terms.append((text, f"{path.relative_to(ROOT)}:{lineno}"))
    return terms


def test_source_scan_finds_the_terms():
    terms = _source_terms()
    # the addon's models, wizards and controller use self.env._ / _ in dozens of places
    assert len(terms) > 50
    assert all(text for text, _where in terms)


def test_every_python_term_is_in_the_template(pot):
    exported = {e.msgid for e in pot}
    missing = sorted({(text, where) for text, where in _source_terms() if text not in exported})
    assert not missing, (
        "translatable strings missing from the .pot (re-export it with Odoo's --i18n-export "
        "and translate them in nl.po):\n" + "\n".join(f"  {w}: {t!r}" for t, w in missing)
    )


def test_template_code_terms_still_exist_in_the_sources(pot):
    """A code term of the .pot that no source has any more means the .pot is stale."""
    in_source = {text for text, _where in _source_terms()}
    code_terms = [
        e.msgid
        for e in pot
        if any(src.startswith("code:") for src, _line in e.occurrences)
        and not any(not src.startswith("code:") for src, _line in e.occurrences)
    ]
    stale = sorted(t for t in code_terms if t not in in_source)
    assert not stale, f"the .pot has code terms no source uses any more: {stale}"
