"""Alert rules (预警规则) an app declares: which households to flag for a period, and why."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import ClassVar

from figures.periods import Quarter
from figures.registry import Parameter


class AlertRule(ABC):
    """One rule: the households it flags for a period, each with the figures that tripped it.

    `find` is one query; its figures are short label → text pairs shown in the inbox.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    parameters: ClassVar[tuple[Parameter, ...]] = ()
    # Offer 纳入监测 (open the monitoring-case form) when the alert is confirmed.
    suggests_monitoring: ClassVar[bool] = False
    # A data-quality 疑点 (the record itself looks wrong): a quarter is not closed while one is open.
    data_quality: ClassVar[bool] = False
    order: ClassVar[int] = 1000

    @property
    def definition(self) -> str:
        return "".join(line.strip() for line in (self.__doc__ or "").splitlines())

    @abstractmethod
    def find(
        self, *, period: Quarter, within: str, parameters: Mapping[str, Decimal]
    ) -> Iterable[tuple[int, dict[str, str]]]:
        """(household id, figures) of every household under the code prefix `within` that the rule flags."""


_RULES: dict[str, AlertRule] = {}


def register_rule(rule: AlertRule) -> AlertRule:
    if rule.code in _RULES and type(_RULES[rule.code]) is not type(rule):
        raise ValueError(f"alert rule code {rule.code!r} is already registered")
    _RULES[rule.code] = rule
    return rule


def unregister_rule(code: str) -> None:
    _RULES.pop(code, None)


def rules() -> list[AlertRule]:
    return sorted(_RULES.values(), key=lambda rule: (rule.order, rule.code))


def get_rule(code: str) -> AlertRule | None:
    return _RULES.get(code)


def data_quality_codes() -> list[str]:
    """Codes of the registered 疑点 rules (the quarter close refuses while their alerts are open)."""
    return [rule.code for rule in rules() if rule.data_quality]
