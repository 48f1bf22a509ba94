"""Neutron's ``field:`` policy check, which oslo.policy does not ship."""

from __future__ import annotations

from typing import Any

from oslo_policy import _checks

__all__ = ["FieldCheck", "register_checks"]


class FieldCheck(_checks.Check):
    """``field:<collection>:<attribute>=<value>``: the target's attribute has
    that value. For objects that belong to a network (subnets, ports), the
    network's attribute is read as ``network:<attribute>`` in the target."""

    def __init__(self, kind: str, match: str) -> None:
        super().__init__(kind, match)
        _collection, _, rest = match.partition(":")
        self.attribute, _, value = rest.rpartition("=")
        self.value: Any = {"True": True, "False": False}.get(value, value)

    def __call__(self, target: Any, creds: Any, enforcer: Any, current_rule: Any = None) -> bool:
        if self.attribute in target:
            return bool(target[self.attribute] == self.value)
        return bool(target.get(f"network:{self.attribute}") == self.value)


def register_checks() -> None:
    """Make ``field:`` known to oslo.policy's parser (before rules are parsed)."""
    _checks.registered_checks.setdefault("field", FieldCheck)
