"""Understand: how many captions mention each concept and each of its names, counted with
one DuckDB query over Parquet files (the lab corpus or LAION / CC12M caption shards), and
the REAL-Prompt names (Parashar et al. 2024) picked from those counts.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

_TOKEN_SPLIT = "[^a-z0-9]+"


def normalize_term(term: str) -> str:
    """Lower-case a name and collapse every run of non-alphanumerics to one space.

    This is the normal form in which captions are matched, so ``"Night-Snake"`` and
    ``"night snake"`` are the same term.

    Examples
    --------
    >>> normalize_term("  Night-Snake ")
    'night snake'
    """
    if not isinstance(term, str):
        raise ValueError(f"a term must be a string, got {term!r}")
    out = " ".join(re.split(_TOKEN_SPLIT, term.lower())).strip()
    if not out:
        raise ValueError(f"term {term!r} has no letters or digits")
    return out


def terms_table(names: Sequence[Sequence[str]] | Mapping[int, Sequence[str]]) -> pd.DataFrame:
    """A table of (concept, name, term, n_words) from each concept's list of names.

    Parameters
    ----------
    names : sequence of sequences of str, or mapping concept -> names
        ``names[c]`` lists the names of concept ``c`` (e.g. ``world.names``, or the
        ``alternates`` of a LAION metrics file). Duplicated names within a concept are
        kept once.
    """
    items = names.items() if isinstance(names, Mapping) else enumerate(names)
    rows = []
    for c, ns in items:
        if isinstance(ns, str):
            raise ValueError(f"names of concept {c!r} must be a list of strings, got the string {ns!r}")
        seen = set()
        for n in ns:
            t = normalize_term(n)
            if t not in seen:
                seen.add(t)
                rows.append((int(c), str(n), t, len(t.split(" "))))
    if not rows:
        raise ValueError("no names to count")
    return pd.DataFrame(rows, columns=["concept", "name", "term", "n_words"])


def _parquet_source(source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    if not paths:
        raise ValueError("no Parquet source given")
    out = []
    for p in paths:
        s = str(p)
        if any(ch in s for ch in "*?["):
            if not glob.glob(s, recursive=True):
                raise FileNotFoundError(f"no Parquet file matches {s!r}")
        elif Path(s).is_dir():
            s = str(Path(s) / "*.parquet")
            if not glob.glob(s):
                raise FileNotFoundError(f"no *.parquet file in folder {p!r}")
        elif not Path(s).is_file():
            raise FileNotFoundError(f"no Parquet file at {s!r}")
        out.append(s)
    return out


def count_concept_mentions(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    names: Sequence[Sequence[str]] | Mapping[int, Sequence[str]],
    caption_column: str = "caption",
    threads: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count captions that mention each concept and each of its names, with DuckDB.

    A caption mentions a name if the name's words appear consecutively in it as whole
    words, case-insensitively (``"a Night Snake!"`` mentions ``"night snake"``, and
    ``"snakes"`` does not mention ``"snake"``). Captions are split into words once and
    their word n-grams are joined to the names with a hash join, so the cost grows
    with the number of captions, not with captions x names as a regex scan would.

    Parameters
    ----------
    source : path, glob or list of them
        Parquet files with a caption column: the lab corpus (``corpus.to_parquet``), or
        e.g. ``"/data/laion400m/captions/*.parquet"`` (LAION's metadata shards, column
        ``caption``; CC12M converted to Parquet, column ``caption``). A folder means
        all ``*.parquet`` files in it.
    names : sequence of name lists, or mapping concept -> name list
        ``names[c]`` = the canonical name and synonyms of concept ``c``.
    caption_column : str
        Name of the caption column (``"TEXT"`` in some LAION releases).
    threads : int, optional
        DuckDB threads (default: DuckDB's choice, all cores).

    Returns
    -------
    per_name : DataFrame
        ``concept, name, term, count``: captions mentioning that name.
    per_concept : DataFrame
        ``concept, count``: captions mentioning *any* name of the concept (a caption
        that uses two synonyms counts once), every concept present (0 if unseen).

    Raises
    ------
    FileNotFoundError
        If nothing matches ``source``.
    ValueError
        If ``caption_column`` is not a column of the files, or a name is empty.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", caption_column or ""):
        raise ValueError(f"caption_column must be a plain column name, got {caption_column!r}")
    files = _parquet_source(source)
    terms = terms_table(names)
    return _mention_tables(_query_mentions(files, terms, caption_column, threads), terms)


def _query_mentions(files: list[str], terms: pd.DataFrame, caption_column: str, threads: int | None) -> pd.DataFrame:
    """The rows of :func:`_mentions_sql` over ``files``, in a DuckDB connection of its own."""
    import duckdb

    con = duckdb.connect()
    try:
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        con.register("terms", terms)
        src = "read_parquet($files, union_by_name = true, filename = true, file_row_number = true)"
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}", {"files": files}).fetchall()]
        if caption_column not in cols:
            raise ValueError(f"caption column {caption_column!r} is not in {files}; columns: {cols}")
        return con.execute(_mentions_sql(src, caption_column, int(terms["n_words"].max())), {"files": files}).df()
    finally:
        con.close()


def _mentions_sql(src: str, caption_column: str, max_n: int) -> str:
    """The DuckDB query of :func:`count_concept_mentions`: one row per (caption, word
    n-gram), n = 1..``max_n``, joined to the ``terms`` table on equality, counted per name
    and per concept."""
    return f"""
        WITH caps AS (
            SELECT filename || ':' || file_row_number AS doc,
                   list_filter(regexp_split_to_array(lower(coalesce("{caption_column}", '')),
                                                     '{_TOKEN_SPLIT}'), lambda x: x <> '') AS w
            FROM {src}
        ),
        grams AS (
            SELECT DISTINCT doc, g AS term FROM (
                SELECT doc, unnest(list_concat(
                    {", ".join(
                        f"list_transform(range(1, len(w) + {2 - n}), lambda i: array_to_string(w[i:i + {n - 1}], ' '))"
                        for n in range(1, max_n + 1))}
                )) AS g FROM caps
            )
        ),
        hits AS (
            SELECT t.concept, t.term, g.doc FROM grams g JOIN terms t ON g.term = t.term
        )
        SELECT 'name' AS level, concept, term, count(DISTINCT doc) AS count FROM hits GROUP BY concept, term
        UNION ALL
        SELECT 'concept', concept, NULL, count(DISTINCT doc) FROM hits GROUP BY concept
        """


def _mention_tables(res: pd.DataFrame, terms: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``per_name`` and ``per_concept`` of :func:`count_concept_mentions` from the query's
    rows, every name and concept present (0 if never mentioned)."""
    by_name = res[res["level"] == "name"][["concept", "term", "count"]]
    per_name = terms.drop(columns="n_words").merge(by_name, on=["concept", "term"], how="left")
    per_name["count"] = per_name["count"].fillna(0).astype(np.int64)
    concepts = np.sort(terms["concept"].unique())
    by_c = res[res["level"] == "concept"].set_index("concept")["count"]
    per_concept = pd.DataFrame({"concept": concepts,
                                "count": by_c.reindex(concepts).fillna(0).astype(np.int64).to_numpy()})
    return per_name.reset_index(drop=True), per_concept


def most_frequent_names(per_name: pd.DataFrame, fallback: Sequence[str] | None = None) -> list[str]:
    """REAL-Prompt names: for each concept, the name mentioned in most captions.

    Ties go to the name listed first (the canonical name when it is tied).

    Parameters
    ----------
    per_name : DataFrame
        The first output of :func:`count_concept_mentions` (columns ``concept, name,
        count``), or any table with those columns.
    fallback : sequence of str, optional
        Names to use for concepts with no row (index = concept).
    """
    need = {"concept", "name", "count"}
    if not need <= set(per_name.columns):
        raise ValueError(f"per_name needs columns {sorted(need)}, got {list(per_name.columns)}")
    best: dict[int, str] = {}
    for c, grp in per_name.groupby("concept", sort=True):
        counts = grp["count"].to_numpy()
        best[int(c)] = str(grp["name"].to_numpy()[int(np.argmax(counts))])
    n = (max(best) + 1) if fallback is None else len(fallback)
    out = []
    for c in range(n):
        if c in best:
            out.append(best[c])
        elif fallback is not None:
            out.append(fallback[c])
        else:
            raise ValueError(f"concept {c} has no counted names and no fallback")
    return out
