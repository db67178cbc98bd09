"""The sandbox's state as one JSON-able dict, with atomic persistence (``--state FILE``)."""

from __future__ import annotations

import json
import os
import tempfile

from . import seed as seed_mod

VERSION = 1


def new_state(seed: str, config: dict) -> dict:
    return {
        "version": VERSION,
        "seed": seed,
        "config": dict(config),
        "apps": {},
        "oauth": {},
        "ratelimits": {},
        "errorblocks": {},
        "divisions": seed_mod.build(seed),
    }


def load(path: str) -> dict | None:
    if not path or not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if data.get("version") != VERSION:
        raise ValueError(f"{path}: unsupported sandbox state version {data.get('version')!r}")
    return data


def save(path: str, data: dict) -> None:
    write_text(path, json.dumps(data))


def write_text(path: str, text: str) -> None:
    """Replace ``path`` atomically with ``text`` (a temporary file, then a rename)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".sandbox-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
