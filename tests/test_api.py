"""Every public name of the package resolves to what it defines, however modules are imported."""

from __future__ import annotations

import subprocess
import sys

import textmine


def test_every_export_resolves():
    for name in textmine.__all__:
        assert getattr(textmine, name) is not None, name


def test_functions_named_like_their_module_stay_functions():
    code = (
        "import textmine.keyness, textmine.keywords, textmine.collocations, textmine.emergence\n"
        "import textmine as tm\n"
        "print(all(callable(f) and type(f).__name__ == 'function' for f in "
        "(tm.keyness, tm.keywords, tm.collocations, tm.emergence)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
