"""textmine: mine Chinese reports for themes and figures.

The flow follows quanteda's: corpus → clean → tokens → document-feature matrix → statistics →
plots. Each stage is one module; the public functions are importable from here.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name → module that defines it. Imported on first use so that `import textmine`
# stays fast and a process-pool worker loads only the stages it runs.
_EXPORTS = {
    "Config": "config",
    "load_config": "config",
    "Corpus": "corpus",
    "load_corpus": "corpus",
    "DocumentStream": "corpus",
    "read_document": "corpus",
    "InputError": "corpus",
    "SkippedFilesWarning": "corpus",
    "CleanDocument": "clean",
    "CleanCorpus": "clean",
    "clean_text": "clean",
    "clean_corpus": "clean",
    "map_to_raw": "clean",
    "Span": "spans",
    "detect_spans": "spans",
    "Tokenizer": "segment",
    "tokenize": "segment",
    "entities": "segment",
    "lexicon_check": "segment",
    "term_coverage": "segment",
    "extract_quantities": "quantities",
    "extract_formulations": "formulations",
    "build_dfm": "dfm",
    "DocumentFeatureMatrix": "dfm",
    "keywords": "keywords",
    "keyness": "keyness",
    "collocations": "collocations",
    "cooccurrence_graph": "collocations",
    "kwic": "concordance",
    "fit_topics": "topics",
    "topic_dfm": "topics",
    "npmi_coherence": "topics",
    "emergence": "emergence",
    "save_figure": "plots",
    "use_paper_style": "plots",
    "run_pipeline": "pipeline",
    "read_output": "pipeline",
    "load_dfm": "pipeline",
    "load_clean_corpus": "pipeline",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    """Import the module that defines `name` on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'textmine' has no attribute {name!r}")
    return getattr(importlib.import_module(f"textmine.{module}"), name)


# These functions share their module's name. Importing a submodule binds the submodule to the
# package attribute, so bind the functions now, after their modules are loaded: `tm.keyness`
# is then the function however the modules are imported later.
from textmine.collocations import collocations as collocations  # noqa: E402
from textmine.emergence import emergence as emergence  # noqa: E402
from textmine.keyness import keyness as keyness  # noqa: E402
from textmine.keywords import keywords as keywords  # noqa: E402
