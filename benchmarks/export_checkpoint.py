"""Turn the best-epoch checkpoint of an interrupted run into a model folder that `evaluate` accepts.

    python benchmarks/export_checkpoint.py --partial models/RUN.partial --base minilm --output models/RUN-e1.model \
        --config-json '{"max_length": 256, "truncation": "head+tail", "head_tokens": 64}'

Used for the full MiniLM run of this repo's results, which was stopped after epoch 1 to fit the session.
"""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from pipeline.classifiers.sources import load_tokenizer
from pipeline.classifiers.transformer.checkpoint import load_model

ap = argparse.ArgumentParser()
ap.add_argument("--partial", required=True)
ap.add_argument("--base", default="minilm")
ap.add_argument("--output", required=True)
ap.add_argument("--config-json", default="{}")
a = ap.parse_args()
best = Path(a.partial) / "checkpoints" / "best" / "weights"
if not best.with_suffix(".index").exists():
    sys.exit(f"no best-epoch checkpoint at {best}")
tok, mdl = load_tokenizer(a.base), load_model(a.base)
mdl.load_weights(str(best)).assert_existing_objects_matched()
out = Path(a.output)
mdl.save_pretrained(str(out))
tok.save_pretrained(str(out))
(out / "training.json").write_text(
    json.dumps({"config": json.loads(a.config_json), "exported_from": str(best)}, indent=2)
)
print(out)
