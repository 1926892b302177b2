"""Token attributions: ``Explainer`` (two-line API) over a registry of methods (``METHODS``).

``attribution``: the result type; ``methods``: the registry and its base class; ``gradients``: gradient ×
input and Integrated Gradients; ``shap_partition``: SHAP; ``precompute_run``: a run's errors → explanations.parquet;
``wrong_side``: which words push errors the wrong way; ``rows``: explanations as table rows; ``files``: every
review of a file → Parquet (the last four load pandas on first use).
"""

from . import gradients, shap_partition  # noqa: F401  (importing registers the methods, in this order)
from .attribution import Attribution
from .explainer import DEFAULT_METHOD, Explainer, warm_up_methods
from .methods import METHODS, Method, Setting, default_method, methods_for


def __getattr__(name: str):
    if name == "precompute":  # (the module is precompute_run: a module named like the function would shadow it)
        from .precompute_run import precompute

        return precompute
    if name == "wrong_side_tokens":
        from .wrong_side import wrong_side_tokens

        return wrong_side_tokens
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Attribution",
    "DEFAULT_METHOD",
    "Explainer",
    "METHODS",
    "Method",
    "Setting",
    "default_method",
    "methods_for",
    "precompute",
    "warm_up_methods",
    "wrong_side_tokens",
]
