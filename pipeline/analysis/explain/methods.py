"""The registry of attribution methods: one class per method, declaring everything the Explainer, the CLI
and the dashboard need to know about it (name, settings with defaults and help, UI label, cost hint, the
classifier capabilities it requires) next to the code that computes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ...classifiers.base import Classifier
from .attribution import Attribution


@dataclass(frozen=True)
class Setting:
    """One tunable setting of a method: becomes ``--<name>`` on ``python -m pipeline explain``."""

    name: str
    type: type
    default: Any
    help: str
    choices: tuple | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


class Method:
    """Base class. Subclasses set the class attributes and implement :meth:`explain`.

    Instances are not thread-safe; :class:`~pipeline.analysis.explain.explainer.Explainer` serialises calls.
    """

    name: ClassVar[str]
    label: ClassVar[str]  # shown in the dashboard's method picker
    cost: ClassVar[str]  # measured cost per median review, shown beside the label
    units: ClassVar[str]  # "probability" or "logit"
    requires: ClassVar[frozenset[str]] = frozenset()  # classifier capabilities
    settings_spec: ClassVar[tuple[Setting, ...]] = ()

    def __init__(self, classifier: Classifier, **settings):
        self.clf = classifier
        self.settings = self.resolve(classifier, settings)

    @classmethod
    def applicable_settings(cls, capabilities: frozenset[str]) -> tuple[Setting, ...]:
        """The settings that mean something for a classifier with ``capabilities`` (all, by default)."""
        return cls.settings_spec

    @classmethod
    def defaults(cls, capabilities: frozenset[str] = frozenset()) -> dict[str, Any]:
        return {s.name: s.default for s in cls.applicable_settings(capabilities)}

    @classmethod
    def resolve(cls, classifier: Classifier, given: dict[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``given``; unknown names and values outside ``choices`` raise ``ValueError``.
        Settings that do not apply to this classifier (e.g. ``precision`` on the baseline) are dropped."""
        known = {s.name: s for s in cls.settings_spec}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise ValueError(f"method {cls.name!r} has no setting {unknown[0]!r}; settings: {', '.join(known)}")
        applicable = {s.name for s in cls.applicable_settings(classifier.capabilities)}
        out = cls.defaults(classifier.capabilities)
        for k, v in given.items():
            if k not in applicable or v is None:
                continue
            s = known[k]
            if s.choices is not None and v not in s.choices:
                raise ValueError(f"{k} must be one of {s.choices}, got {v!r}")
            out[k] = s.type(v)
        return out

    def warm_up(self) -> None:
        """Pay one-off costs (tracing, loading) now rather than on a user's first call."""

    def explain(self, text: str) -> Attribution:
        raise NotImplementedError


METHODS: dict[str, type[Method]] = {}


def register_method(cls: type[Method]) -> type[Method]:
    METHODS[cls.name] = cls
    return cls


def methods_for(capabilities: frozenset[str]) -> list[str]:
    """Names of the methods a classifier with ``capabilities`` supports, in registry order."""
    return [n for n, m in METHODS.items() if m.requires <= capabilities]
