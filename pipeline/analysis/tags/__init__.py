"""Error taxonomy: one detector class per tag (``base``), registered by name, run over a run's predictions.

    python -m pipeline tag --run RUN      →  tags.parquet (id + one bool column per tag, plus scores)
                                             tags.json    (per tag: support, error rate, lift with 95 % CI;
                                                           label issues; validation records)
    python -m pipeline tag --run RUN --input FILE --output FILE   →  the file's rows + tag columns

``lexical``: rule-based tags on the words; ``columns``: conditions on prediction columns and the data;
``irony``: the learned irony score; ``label_issues``: cleanlab;
``model_based``: tags that ask the run's own classifier; ``lift``: statistics; ``runner``: compute and write.
"""

from . import columns, irony, label_issues, lexical, model_based  # noqa: F401  (importing registers the tags)
from .base import REGISTRY, Tag, TagContext, register
from .lift import lift_table, wilson
from .runner import compute_tags, run_tags, tag_file

__all__ = ["REGISTRY", "Tag", "TagContext", "lift_table", "register", "compute_tags", "run_tags", "tag_file", "wilson"]
