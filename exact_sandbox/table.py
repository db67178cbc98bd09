"""A stored entity table: ``key -> record`` with secondary indexes kept up to date.

A ``Table`` is a ``dict`` (so the state stays JSON-able and is saved as it is) that also
keeps, for a few fields per entity (``Entity.indexed``), a map from the field's normalised
value to the keys holding it. Lookups by such a field (``Code``, ``YourRef``, ``EntryID`` of
a line, ...) are then O(1) instead of a scan over every record, so pushing thousands of
invoices through the sandbox stays linear.

Values are normalised the way ``$filter`` compares them, loosened to be a superset:
strings without surrounding blanks and case-folded (so ``Code eq '      1000'``,
``trim(Code) eq '1000'`` and ``toupper(Code) eq ...`` all find their candidates), numbers
as ``Decimal``. An index answers *candidates*; callers check the exact condition.

Rule: a stored record is replaced (``table[key] = new_record``), never changed in place
in an indexed field. Other fields (totals, stamps) may be changed in place.
"""

from __future__ import annotations

from decimal import Decimal


def norm(value):
    """The index key of a value: a superset of what ``$filter`` ``eq`` treats as equal."""
    if isinstance(value, str):
        return value.strip().casefold()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, Decimal)):
        try:
            return Decimal(str(value))
        except ArithmeticError:
            return None
    return value


class Table(dict):
    """``key -> record``, with indexes on ``indexed`` fields and cached maxima."""

    def __init__(self, records=None, indexed=()):
        super().__init__()
        self.indexed = tuple(indexed)
        self._index: dict[str, dict] = {field: {} for field in self.indexed}
        self._values: dict = {}  # key -> normalised indexed values at the time of storing
        self._max: dict = {}  # (field, group field, normalised group value) -> [max, convert]
        self.version = 0
        self._sorted: tuple[int, list] | None = None
        for key, rec in (records or {}).items():
            self[key] = rec

    # ------------------------------------------------------------ dict protocol
    def __setitem__(self, key, rec) -> None:
        if dict.__contains__(self, key):
            self._unindex(key)
        dict.__setitem__(self, key, rec)
        values = tuple(norm(rec.get(field)) for field in self.indexed)
        self._values[key] = values
        for field, value in zip(self.indexed, values, strict=True):
            try:
                self._index[field].setdefault(value, set()).add(key)
            except TypeError:  # unhashable value: not indexed (lookups fall back to scans)
                pass
        for (field, gfield, gvalue), entry in self._max.items():
            if gfield is None or norm(rec.get(gfield)) == gvalue:
                converted = entry[1](rec.get(field))
                if converted is not None and (entry[0] is None or converted > entry[0]):
                    entry[0] = converted
        self.version += 1

    def __delitem__(self, key) -> None:
        self._unindex(key)
        dict.__delitem__(self, key)
        self.version += 1

    def _unindex(self, key) -> None:
        old = dict.__getitem__(self, key)
        for field, value in zip(self.indexed, self._values.pop(key, ()), strict=False):
            try:
                keys = self._index[field].get(value)
            except TypeError:
                continue
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._index[field][value]
        for cache_key, entry in list(self._max.items()):
            field, gfield, gvalue = cache_key
            if gfield is not None and norm(old.get(gfield)) != gvalue:
                continue
            converted = entry[1](old.get(field))
            if converted is not None and converted == entry[0]:
                del self._max[cache_key]  # the maximum may have gone: recompute when asked

    def pop(self, key, *default):
        if dict.__contains__(self, key):
            rec = dict.__getitem__(self, key)
            del self[key]
            return rec
        if default:
            return default[0]
        raise KeyError(key)

    def popitem(self):
        key = next(reversed(self))
        return key, self.pop(key)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def update(self, *args, **kwargs) -> None:
        for key, rec in dict(*args, **kwargs).items():
            self[key] = rec

    def clear(self) -> None:
        dict.clear(self)
        self._index = {field: {} for field in self.indexed}
        self._values.clear()
        self._max.clear()
        self.version += 1

    def __reduce__(self):  # copy/pickle as a plain dict: indexes are derived data
        return dict, (dict(self),)

    # ------------------------------------------------------------ queries
    def lookup(self, field: str, value) -> set | None:
        """Keys whose ``field`` may equal ``value`` (a superset: check the records), or
        None when ``field`` is not indexed."""
        index = self._index.get(field)
        if index is None:
            return None
        try:
            return set(index.get(norm(value), ()))
        except TypeError:
            return None

    def lookup_records(self, field: str, value) -> list[dict]:
        """Records whose ``field`` may equal ``value`` (scans when not indexed)."""
        keys = self.lookup(field, value)
        if keys is None:
            want = norm(value)
            return [rec for rec in self.values() if norm(rec.get(field)) == want]
        return [dict.__getitem__(self, key) for key in keys]

    def max_of(self, field: str, convert, group: tuple | None = None):
        """The largest ``convert(record[field])`` (None values skipped), optionally only over
        records whose ``group[0]`` field equals ``group[1]``. Cached and kept up to date."""
        gfield, gvalue = group if group else (None, None)
        cache_key = (field, gfield, norm(gvalue) if gfield else None)
        entry = self._max.get(cache_key)
        if entry is None:
            recs = self.lookup_records(gfield, gvalue) if gfield else self.values()
            values = [v for v in (convert(r.get(field)) for r in recs) if v is not None]
            entry = [max(values, default=None), convert]
            self._max[cache_key] = entry
        return entry[0]

    def sorted_keys(self) -> list:
        """All keys in order (cached until the table changes)."""
        if self._sorted is None or self._sorted[0] != self.version:
            self._sorted = (self.version, sorted(self.keys()))
        return self._sorted[1]
