"""After evaluation: why the model errs. ``explain`` (token attributions), ``tags`` (error taxonomy with lift),
``behavior`` (CheckList-style tests); ``perturb`` and ``lexicon`` are their small text helpers."""
