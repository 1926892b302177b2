"""The package's shape: no import cycle, TensorFlow only inside the transformer implementation, one place
that knows each thing (run kinds, attribution methods, tags, config checks)."""

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PKG = ROOT / "pipeline"
TF_PACKAGE = "pipeline.classifiers.transformer"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module → pipeline modules it imports, at module level or inside functions (both make cycles)."""
    mods = {module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[mod] |= {t for t in targets if t in mods and t != mod}
    return graph


def imports_of(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.add(node.module.split(".")[0])
    return out


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            # a package's __init__ importing its own submodules is not a cycle of concerns
            if n.startswith(m + "."):
                continue
            if state.get(n) == 1:
                return stack[stack.index(n) :] + [n]
            if n not in state and (c := visit(n)):
                return c
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (c := visit(m)):
            return c
    return None


def test_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_only_the_transformer_package_imports_tensorflow():
    importers = {module_name(p) for p in PKG.rglob("*.py") if "tensorflow" in imports_of(p)}
    assert importers and all(m.startswith(TF_PACKAGE) for m in importers), importers
    for d in (ROOT / "dashboard").rglob("*.py"):
        assert "tensorflow" not in imports_of(d), d


def test_core_modules_import_without_tensorflow():
    """Reading runs, metrics, tags, explainers, the CLI parser and the baseline load no framework."""
    code = (
        "import sys\n"
        "import pipeline.cli, pipeline.runs, pipeline.evaluate, pipeline.analysis.tags, pipeline.analysis.explain\n"
        "import pipeline.classifiers, pipeline.classifiers.baseline, pipeline.analysis.behavior\n"
        "pipeline.cli.build_parser()\n"
        "print('tensorflow' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_no_path_edits_anywhere():
    for p in (
        list(ROOT.glob("pipeline/**/*.py"))
        + list(ROOT.glob("dashboard/**/*.py"))
        + list(ROOT.glob("tests/*.py"))
        + list(ROOT.glob("benchmarks/*.py"))
    ):
        if p.name != "test_architecture.py":
            assert "sys.path" not in p.read_text(), p


def test_run_folder_file_names_live_in_runs_only():
    literals = ('"run.json"', '"metrics.json"', '"predictions.parquet"', '"tags.json"', '"behavior.json"')
    for p in list(PKG.rglob("*.py")) + list((ROOT / "dashboard").rglob("*.py")):
        if p.name == "runs.py":
            continue
        text = p.read_text()
        assert not [lit for lit in literals if lit in text], p


def test_method_registry_drives_cli_and_capabilities():
    from pipeline.analysis.explain import METHODS, methods_for
    from pipeline.classifiers import RUN_KINDS
    from pipeline.cli import build_parser

    assert methods_for(RUN_KINDS["baseline"].capabilities) == ["shap"]
    assert set(methods_for(RUN_KINDS["transformer"].capabilities)) == set(METHODS)
    explain = build_parser()._subparsers._group_actions[0].choices["explain"]
    flags = {a.dest for a in explain._actions}
    assert {s.name for m in METHODS.values() for s in m.settings_spec} <= flags


def test_tags_declare_columns_and_needs():
    from pipeline.analysis.tags import REGISTRY
    from pipeline.analysis.tags.base import MODEL
    from pipeline.classifiers.baseline import BaselineClassifier

    for cls in REGISTRY.values():
        assert cls.columns()[0] == cls.name
    assert REGISTRY["truncated_verdict"].unmet_needs(BaselineClassifier(None)) == {"tokenizer"}
    assert REGISTRY["mixed_sentiment"].unmet_needs(None) == {MODEL}
    assert REGISTRY["negation"].unmet_needs(None) == set()
