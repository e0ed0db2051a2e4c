"""Paper-ready figures: one seaborn style, a CJK font that embeds everywhere, byte-stable files.

- `use_paper_style()` sets the style: single- and double-column widths (`SINGLE_COLUMN`,
  `DOUBLE_COLUMN`, inches), print font sizes (7–9 pt), the colour-blind-safe Okabe–Ito palette
  (`PALETTE`) and `cividis` for heat maps; it registers the CJK font and seeds NumPy's global
  generator, which seaborn's bootstrap uses when no `seed=` is given.
- The CJK font is Noto Sans SC (SIL Open Font License) from the pinned `pylopdf-fonts-zh-cn`
  package. It ships as a CFF-based OpenType font, which a PDF cannot carry as a TrueType
  (fonttype 42) font without coming out malformed; so it is converted once, with fontTools'
  cu2qu, to a TrueType-outline (glyf) font kept in the cache folder (`cjk_font_path()`). PDFs
  then embed a subset as a CID TrueType font, which every reader and journal system accepts
  (no Type 3 fonts); SVGs draw the glyphs as paths, so they need no font at all.
- `save_figure(fig, name)` writes `NAME.pdf`, `NAME.svg` and `NAME.png` (300 dpi) with nothing
  that changes between runs (no dates, a fixed SVG id salt, fixed PNG metadata) and records the
  files with their SHA-256 in `MANIFEST.json` beside them (see `textmine.provenance`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.patches
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.figure import Figure

from textmine.cache import atomic_write_bytes, default_cache_dir

#: Column widths of a two-column journal page, in inches.
SINGLE_COLUMN = 3.35
DOUBLE_COLUMN = 7.0
#: Okabe & Ito (2008), distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000"]
#: Sequential colour map for heat maps: cividis is designed for colour-vision deficiencies.
SEQUENTIAL_CMAP = "cividis"
#: Seed for anything random in a plot (seaborn's bootstrap, word-cloud layout).
SEED = 0
#: Formats `save_figure` writes, and the PNG resolution.
FORMATS = ("pdf", "svg", "png")
PNG_DPI = 300

CJK_FAMILY = "Noto Sans SC"
_FALLBACK_FAMILY = "DejaVu Sans"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

_PAPER_RC: dict[str, Any] = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.title_fontsize": 7,
    "figure.titlesize": 9,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.0,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 150,
    "savefig.dpi": PNG_DPI,
    "savefig.bbox": None,  # a tight bbox depends on text extents only, but keep sizes exact
    "image.cmap": SEQUENTIAL_CMAP,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "svg.hashsalt": "textmine",
    "axes.unicode_minus": True,
}


def _source_font() -> Path:
    """The OpenType (CFF) Noto Sans SC shipped by the pinned font package."""
    from pylopdf_fonts_zh_cn import sans_path

    return Path(sans_path())


def _convert_to_truetype(source: Path) -> bytes:
    """Redraw every CFF glyph as quadratic TrueType outlines (cu2qu); deterministic bytes."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(str(source), recalcTimestamp=False)
    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    for tag in ("CFF ", "VORG", "DSIG"):
        if tag in font:
            del font[tag]
    font["head"].glyphDataFormat = 0
    font.sfntVersion = "\x00\x01\x00\x00"
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def cjk_font_path(cache_dir: str | Path | None = None) -> Path:
    """The TrueType-outline Noto Sans SC, converted once into the cache folder and reused.

    Concurrent callers (notebooks running side by side) wait on a lock instead of converting
    twice; the file appears atomically. Takes ~30 s the first time on one core.
    """
    import fontTools

    source = _source_font()
    stamp = hashlib.sha256(f"{source.stat().st_size}:{source.name}:{fontTools.version}"
                           .encode()).hexdigest()[:12]
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir() / "fonts"
    target = folder / f"NotoSansSC-Regular-glyf-{stamp}.ttf"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".convert.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not target.exists():
                atomic_write_bytes(target, _convert_to_truetype(source))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target


def register_cjk_font() -> str:
    """Register the CJK font with matplotlib (idempotent) and return its family name."""
    path = cjk_font_path()
    known = {Path(f.fname) for f in font_manager.fontManager.ttflist}
    if path not in known:
        font_manager.fontManager.addfont(str(path))
    return CJK_FAMILY


def use_paper_style(context: str = "paper", font_scale: float = 1.0) -> None:
    """Apply the paper style (seaborn theme, print sizes, palette, CJK font, fixed seeds)."""
    family = register_cjk_font()
    rc = dict(_PAPER_RC)
    rc["font.family"] = "sans-serif"
    rc["font.sans-serif"] = [family, _FALLBACK_FAMILY]
    sns.set_theme(context=context, style="ticks", palette=PALETTE, font=family,
                  font_scale=font_scale, rc=rc)
    # seaborn 0.13 replaces font sizes with its context's; put the print sizes back
    plt.rcParams.update({k: v for k, v in rc.items() if k.endswith("size")})
    plt.rcParams["font.sans-serif"] = [family, _FALLBACK_FAMILY]
    np.random.seed(SEED)


def figure(width: str | float = "single", aspect: float = 0.62, nrows: int = 1,
           ncols: int = 1, **kwargs: Any) -> tuple[Figure, Any]:
    """`plt.subplots` at a column width: 'single', 'double' or inches; height = width × aspect."""
    inches = {"single": SINGLE_COLUMN, "double": DOUBLE_COLUMN}.get(width, width)  # type: ignore[arg-type]
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=(float(inches), float(inches) * aspect), **kwargs)


def bar_terms(data: pd.DataFrame, value: str, term: str = "term", *, ax: Any = None,
              top: int = 20, color: str | None = None, xlabel: str | None = None) -> Any:
    """Horizontal bars of the `top` rows by `value`, largest on top (terms, counts, scores)."""
    rows = data.nlargest(top, value, keep="first") if len(data) else data
    if ax is None:
        _, ax = figure("single", aspect=max(0.4, 0.045 * max(len(rows), 1) + 0.2))
    ax.barh(rows[term].astype(str)[::-1], rows[value][::-1], color=color or PALETTE[0])
    ax.set_xlabel(xlabel or value)
    ax.set_ylabel("")
    values = pd.to_numeric(rows[value], errors="coerce")
    if len(values) and bool((values.dropna() % 1 == 0).all()):  # counts: whole-number ticks
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    return ax


def keyness_plot(table: pd.DataFrame, *, n: int = 15, measure: str = "g2",
                 target: str = "target", reference: str = "reference", ax: Any = None) -> Any:
    """quanteda's `textplot_keyness`: the `n` terms most key for the target (positive, first
    colour) and for the reference (negative, second colour); `measure` is signed already."""
    scored = table.copy()
    scored["signed"] = scored[measure].to_numpy(dtype=float)
    top = scored[scored["signed"] > 0].nlargest(n, "signed", keep="first")
    bottom = scored[scored["signed"] < 0].nsmallest(n, "signed", keep="first")
    rows = pd.concat([top, bottom.iloc[::-1]])
    if ax is None:
        _, ax = figure("single", aspect=max(0.5, 0.035 * max(len(rows), 1) + 0.2))
    colors = [PALETTE[0] if v > 0 else PALETTE[1] for v in rows["signed"]]
    ax.barh(rows["term"].astype(str)[::-1], rows["signed"][::-1], color=colors[::-1])
    ax.axvline(0, color="0.3", linewidth=0.6)
    ax.set_xlabel(f"{measure.upper() if measure == 'chi2' else 'G²'} (signed)")
    handles = [matplotlib.patches.Patch(color=PALETTE[0], label=str(target)),
               matplotlib.patches.Patch(color=PALETTE[1], label=str(reference))]
    ax.legend(handles=handles, loc="lower right", frameon=False)
    return ax


def dispersion_plot(occurrences: pd.DataFrame, *, term: str = "surface", position: str = "start",
                    ax: Any = None, top: int = 25) -> Any:
    """quanteda's `textplot_xray`: one row per term (in order of first appearance), a tick at
    each occurrence's position in the text."""
    first = occurrences.groupby(term, sort=False)[position].min().sort_values(kind="stable")
    terms = list(first.index[:top])
    if ax is None:
        _, ax = figure("double", aspect=max(0.25, 0.028 * len(terms) + 0.1))
    rows = occurrences[occurrences[term].isin(terms)]
    y = rows[term].map({t: i for i, t in enumerate(terms)})
    ax.scatter(rows[position], y, marker="|", s=40, linewidths=1.0, color=PALETTE[0])
    ax.set_yticks(range(len(terms)), [str(t) for t in terms])
    ax.set_ylim(len(terms) - 0.5, -0.5)
    ax.set_xlabel("position in the text (characters)")
    return ax


def network_plot(graph: Any, *, ax: Any = None, top: int = 40, weight: str = "weight") -> Any:
    """Draw the `top` nodes of a weighted term graph (by weighted degree) with a seeded layout,
    node size by degree, edge width by weight and CJK labels."""
    import networkx as nx

    if ax is None:
        _, ax = figure("double", aspect=0.7)
    degree = dict(graph.degree(weight=weight))
    keep = sorted(degree, key=lambda node: (-degree[node], str(node)))[:top]
    sub = graph.subgraph(keep).copy()
    ax.set_axis_off()
    if sub.number_of_nodes() == 0:
        ax.text(0.5, 0.5, "no co-occurrences", ha="center", va="center")
        return ax
    ordered = nx.Graph()
    ordered.add_nodes_from(sorted(sub.nodes, key=str))
    ordered.add_edges_from(sorted((tuple(sorted((u, v), key=str)) + (d,)
                                   for u, v, d in sub.edges(data=True)), key=lambda e: str(e[:2])))
    positions = nx.spring_layout(ordered, seed=SEED, weight=weight)
    weights = np.array([d.get(weight, 1.0) for _, _, d in ordered.edges(data=True)], dtype=float)
    widths = 0.3 + 2.0 * weights / weights.max() if len(weights) else []
    sizes = np.array([degree[node] for node in ordered.nodes], dtype=float)
    nx.draw_networkx_edges(ordered, positions, ax=ax, width=widths, edge_color="0.7")
    nx.draw_networkx_nodes(ordered, positions, ax=ax, node_color=PALETTE[5],
                           node_size=30 + 300 * sizes / sizes.max())
    nx.draw_networkx_labels(ordered, positions, ax=ax, font_size=6,
                            font_family=plt.rcParams["font.sans-serif"][0])
    return ax


def word_cloud(frequencies: Mapping[str, float], *, width: int = 1000, height: int = 600,
               max_words: int = 150) -> np.ndarray:
    """A word-cloud image (RGB array) drawn with the CJK font, laid out with the fixed seed."""
    from matplotlib.colors import ListedColormap
    from wordcloud import WordCloud

    dark = ListedColormap([PALETTE[i] for i in (0, 3, 2, 4, 7)], name="textmine_dark")
    cloud = WordCloud(font_path=str(cjk_font_path()), width=width, height=height,
                      background_color="white", max_words=max_words, random_state=SEED,
                      colormap=dark, prefer_horizontal=1.0, collocations=False)
    cloud.generate_from_frequencies({str(k): float(v) for k, v in frequencies.items() if v > 0})
    return cloud.to_array()


def _render(fig: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "pdf":
        fig.savefig(buffer, format="pdf", metadata={"CreationDate": None, "ModDate": None,
                                                    "Producer": None})
    elif fmt == "svg":
        with plt.rc_context({"svg.hashsalt": "textmine", "svg.fonttype": "path"}):
            fig.savefig(buffer, format="svg", metadata={"Date": None})
    elif fmt == "png":
        fig.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": "textmine"})
    else:
        raise ValueError(f"unknown figure format {fmt!r}; use one of {FORMATS}")
    return buffer.getvalue()


@contextlib.contextmanager
def _embedding_rc() -> Iterator[None]:
    with plt.rc_context({"pdf.fonttype": 42, "svg.fonttype": "path",
                         "svg.hashsalt": "textmine"}):
        yield


def save_figure(fig: Figure, name: str, *, outdir: str | Path = "figures",
                notebook: str | None = None, parameters: Mapping[str, Any] | None = None,
                formats: Sequence[str] = FORMATS, corpus: str | Path | None = None) -> list[Path]:
    """Write `outdir/NAME.pdf|.svg|.png` byte-reproducibly and record them in the manifest.

    `notebook` and `parameters` say what made the figure; the corpus hash is taken from
    `corpus` or `parameters["corpus"]`. Returns the paths written.
    """
    from textmine import provenance

    if not _NAME.match(name):
        raise ValueError(f"figure name {name!r}: use letters, digits, '_', '-', '.' only")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    with _embedding_rc():
        for fmt in formats:
            path = outdir / f"{name}.{fmt}"
            atomic_write_bytes(path, _render(fig, fmt))
            path.chmod(0o644)  # readable like any file the user writes (mkstemp made it 0600)
            written.append(path)
    if corpus is None and parameters:
        corpus = parameters.get("corpus")
    provenance.record_figure(outdir, name, written, notebook=notebook,
                             parameters=dict(parameters or {}), corpus=corpus)
    return written


class FigureSaver:
    """`save(fig, name)` bound to one notebook's output folder, name and parameters."""

    def __init__(self, outdir: str | Path, notebook: str,
                 parameters: Mapping[str, Any] | None = None, *, show: bool = True):
        self.outdir = Path(outdir)
        self.notebook = notebook
        self.parameters = dict(parameters or {})
        self.show = show

    def __call__(self, fig: Figure, name: str) -> None:
        """Save `fig` as `name` (see `save_figure`), then show it inline (or close it)."""
        save_figure(fig, name, outdir=self.outdir, notebook=self.notebook,
                    parameters=self.parameters)
        if self.show:
            plt.show()
        else:
            plt.close(fig)
