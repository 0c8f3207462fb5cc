"""Build a lab's config: defaults, then quick-mode values, then ``--set key=value`` overrides,
each checked against the field's type so a typo fails before any training starts."""
from __future__ import annotations

import dataclasses
import difflib
import json

from dlab.errors import ConfigError


def build_config(config_cls: type, quick: dict | None, overrides: dict[str, str]):
    cfg = config_cls()
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    changes = dict(quick or {})
    for key, raw in overrides.items():
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"Unknown setting '{key}'.{hint} Settings of this lab: "
                              f"{', '.join(fields)}.")
        changes[key] = _parse(key, raw, getattr(cfg, key))
    cfg = dataclasses.replace(cfg, **changes)
    check = getattr(cfg, "check", None)
    if check is not None:
        check()
    return cfg


def _parse(key: str, raw: str, default):
    """Convert ``raw`` to the type of the field's default value."""
    kind = type(default)
    try:
        if kind is bool:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind in (int, float, str):
            return kind(raw)
        value = json.loads(raw)
        if kind in (list, tuple) and not isinstance(value, list):
            raise ValueError
        return kind(value) if kind in (list, tuple) else value
    except ValueError:
        raise ConfigError(f"Setting '{key}' expects a value like {json.dumps(default)} "
                          f"({kind.__name__}), got '{raw}'.") from None


def parse_assignments(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set expects key=value, got '{item}'.")
        out[key.strip()] = value.strip()
    return out


def positive(**values) -> None:
    """Helper for ``Config.check``: every value must be > 0."""
    for name, value in values.items():
        if not value > 0:
            raise ConfigError(f"Setting '{name}' must be > 0, got {value}.")
