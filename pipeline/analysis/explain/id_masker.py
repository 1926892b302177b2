"""A SHAP masker that masks a review's token ids directly: tokenised once per review, no masked strings.

``shap.maskers.Text`` turns every mask into a string (" [MASK]" joined with the kept pieces) that the model then
tokenises again: ~1,000 string builds and tokeniser calls per review, and a masked word-piece can change how its
neighbours re-tokenise ("un [MASK]able" → ``un [MASK] able``). This masker builds the id rows itself.

Units: ``word`` (default) groups a word's pieces (``##`` continuations) into one feature, so SHAP spends its
evaluations on ~20 % fewer, whole-word features; ``token`` masks word-pieces one by one, exactly as the Text
masker does (same features, same partition tree, same collapsed ``[MASK]``), which the tests compare value for value.
``[CLS]`` and ``[SEP]`` are features that are never masked, as in the Text masker.
"""

from __future__ import annotations

import numpy as np
from shap.maskers import Masker
from shap.maskers._text import partition_tree

UNITS = ("word", "token")


class TokenIdMasker(Masker):
    """``masker(mask, text) -> (array([ids]),)``: the text's token ids with masked units replaced by ``[MASK]``;
    ``collapse`` (default True, like ``Text(collapse_mask_token=True)``) writes one ``[MASK]`` per run of masked
    units, so heavily masked rows are short and cheap to score."""

    def __init__(self, tokenizer, unit: str = "word", collapse: bool = True):
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
        self.tokenizer, self.unit, self.collapse = tokenizer, unit, bool(collapse)
        self.mask_id = tokenizer.mask_token_id
        self.fixed_background = False  # the all-masked row is recomputed per review, as for the Text masker
        self.immutable_outputs = True
        self.default_batch_size = 64
        self._s: str | None = None

    def _update(self, s: str) -> None:
        if s == self._s:
            return
        enc = self.tokenizer(s, return_offsets_mapping=True)
        ids, offsets = enc["input_ids"], [(0, 0) if o is None else o for o in enc["offset_mapping"]]
        pieces = self.tokenizer.convert_ids_to_tokens(ids)
        # unit of every position: [CLS] and [SEP] are units of their own; a word's "##" pieces join its unit
        unit_of = [0]
        for i in range(1, len(ids) - 1):
            glued = self.unit == "word" and pieces[i].startswith("##") and unit_of[-1] > 0
            unit_of.append(unit_of[-1] if glued else unit_of[-1] + 1)
        unit_of.append(unit_of[-1] + 1)
        n_units = unit_of[-1] + 1
        first = [unit_of.index(u) for u in range(n_units)]
        last = [len(unit_of) - 1 - unit_of[::-1].index(u) for u in range(n_units)]
        # names: the text each unit covers (original case), a word-piece continuation with its "##"; "" for [CLS]/[SEP]
        names = [""]
        for u in range(1, n_units - 1):
            span = s[offsets[first[u]][0] : offsets[last[u]][1]]
            names.append("##" + span if self.unit == "token" and pieces[first[u]].startswith("##") else span)
        names.append("")
        self._ids = np.asarray(ids, dtype=np.int32)
        self._unit_of = np.asarray(unit_of)
        self._names = names
        self._tree = self._partition_tree(s, offsets, names, n_units)
        self._s = s

    def _partition_tree(self, s, offsets, names, n_units) -> np.ndarray:
        if self.unit == "token":
            # exactly the Text masker's features: each piece is "##x" when glued to a preceding letter/digit run
            segs = [s[offsets[i][0] : max(offsets[i][1], offsets[i + 1][0])] for i in range(len(offsets) - 1)]
            segs.append(s[offsets[-1][0] : offsets[-1][1]])
            feats = []
            for i, v in enumerate(segs):
                glued = i > 0 and not _ends_non_word(segs[i - 1]) and v[:1].isascii() and v[:1].isalpha()
                feats.append("##" + v.strip() if glued and feats[i - 1] != "" else v.strip())
        else:
            feats = [n.strip() for n in names]
        tree = partition_tree(feats, [self.tokenizer.sep_token]) if n_units > 1 else np.zeros((0, 4))
        # as in the Text masker: cluster sizes as heights (the merge scores are a heuristic, not a distance)
        tree[:, 2] = tree[:, 3]
        tree[:, 2] /= max(tree[:, 2].max(initial=0), 1)
        return tree

    def __call__(self, mask, s):
        mask = self._standardize_mask(mask, s)
        self._update(s)
        keep = np.asarray(mask, dtype=bool)[self._unit_of]
        keep[0] = keep[-1] = True  # [CLS] and [SEP] are never masked
        ids = np.where(keep, self._ids, self.mask_id)
        if self.collapse:  # one [MASK] per run of masked positions
            drop = ~keep & np.r_[False, ~keep[:-1]]
        else:  # one [MASK] per masked unit
            drop = ~keep & np.r_[False, ~keep[:-1]] & np.r_[False, self._unit_of[1:] == self._unit_of[:-1]]
        row = np.empty(1, dtype=object)  # rows differ in length: shap concatenates these 1-element arrays
        row[0] = ids[~drop]
        return (row,)

    def shape(self, s):
        self._update(s)
        return (1, len(self._names))

    def mask_shapes(self, s):
        self._update(s)
        return [(len(self._names),)]

    def invariants(self, s):
        self._update(s)
        out = np.zeros(len(self._names), dtype=bool)
        out[0] = out[-1] = True
        return out.reshape(1, -1)

    def feature_names(self, s):
        self._update(s)
        return [list(self._names)]

    def clustering(self, s):
        self._update(s)
        return self._tree

    def units(self, s) -> list[str]:
        """The feature names without ``[CLS]``/``[SEP]``: words, or word-pieces with their ``##``."""
        self._update(s)
        return self._names[1:-1]


def _ends_non_word(seg: str) -> bool:
    # the Text masker's r"^.*\W$": the previous segment ends in a space or punctuation
    return bool(seg) and not (seg[-1].isalnum() or seg[-1] == "_")
