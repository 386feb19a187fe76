"""Tests of uim_utils.report (the report card), on a fake chapter with known worlds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_records import fake_chapter

from uim_utils import chapters, report
from uim_utils.records import write_record
from uim_utils.worlds import run_worlds


def _fake_with_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Register the fake chapter (gap about 0.3 in every world, control near 0) with a ci record."""
    name = fake_chapter(tmp_path, monkeypatch, "fake_chapter_report")
    ch = chapters.get_chapter(name)
    table = run_worlds(lambda s: ch.measure(s, "ci"), list(range(9)))
    root = tmp_path / "records"
    root.mkdir()
    write_record(ch.spec, "ci", table, 3, heldout_seeds=[0, 3, 6], root=root)
    return root


def _card(effect: tuple[str, ...], mitigation: tuple[str, ...] = (), chapter: str = "00_fake") -> report.Card:
    return report.Card(chapter, "a flaw", ("bias",), "An effect (Someone 2024).", effect, mitigation)


def test_card_status_rules() -> None:
    assert report.card_status([True], [], True) == report.REPRODUCED
    assert report.card_status([True, True], [True], True) == report.REPRODUCED
    assert report.card_status([True], [True], False) == report.PARTLY  # an asserted claim failed a run
    assert report.card_status([True, False], [True], True) == report.PARTLY
    assert report.card_status([True], [False], True) == report.PARTLY
    assert report.card_status([False, False], [True], True) == report.NOT_REPRODUCED
    with pytest.raises(ValueError, match="at least one effect claim verdict"):
        report.card_status([], [True], True)


def test_statuses_follow_the_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _fake_with_record(tmp_path, monkeypatch)
    cards = (_card(("1",)), _card(("1",), ("3",)), _card(("3",)), _card(("1",), chapter="07_unbuilt"))
    for card, expected in zip(cards, (report.REPRODUCED, report.PARTLY, report.NOT_REPRODUCED, report.NO_RECORD)):
        got = report.report_card((card,), root=root)
        assert set(got["status"]) == {expected}, (card, got)
    both = report.report_card(cards[1:2], root=root)
    assert list(both["role"]) == ["effect", "mitigation"] and list(both["holds"]) == [True, False]
    assert both.loc[0, "low"] > 0 and both.loc[0, "held_in"] == "3 of 3" and both.loc[0, "worlds"] == 9
    assert both.loc[1, "high"] < 1.0  # claim 3 (gap above 1) fails over the worlds
    status = report.chapter_status(report.report_card(cards, root=root))
    assert len(status) == 2 and list(status["chapter"]) == ["00_fake", "07_unbuilt"]


def test_a_missing_or_stale_record_stops_the_card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _fake_with_record(tmp_path, monkeypatch)
    with pytest.raises(ValueError, match=r"00_fake has no claim '9'; its claims are \['1', '2', '3'\]"):
        report.report_card((_card(("9",)),), root=root)
    with pytest.raises(FileNotFoundError, match="00_fake-lab.json does not exist"):
        report.report_card((_card(("1",)),), profile="lab", root=root)
    (root / "00_fake-ci.csv").write_text("seed,gap,ctrl\n0,1,0\n")
    with pytest.raises(ValueError, match="is corrupt"):
        report.report_card((_card(("1",)),), root=root)


def test_cards_refuse_bad_declarations() -> None:
    with pytest.raises(ValueError, match="consequences must be some of"):
        report.Card("01_x", "f", ("boredom",), "p", ("1",))
    with pytest.raises(ValueError, match="at least one effect claim id"):
        report.Card("01_x", "f", ("bias",), "p", ())
    with pytest.raises(ValueError, match=r"claim ids \['1'\] are both effect and mitigation"):
        report.Card("01_x", "f", ("bias",), "p", ("1",), ("1",))
    with pytest.raises(ValueError, match="needs a chapter stem"):
        report.Card("", "f", ("bias",), "p", ("1",))


def test_the_books_cards_cover_every_registered_flaw_chapter_and_name_real_claims() -> None:
    assert report.chapters_without_card() == []
    for card in report.CARDS:
        if card.chapter in chapters.REGISTRY:
            spec = chapters.get_chapter(card.chapter).spec
            for cid in card.effect + card.mitigation:
                spec.get(cid)  # raises for an unknown id
    cov = report.coverage()
    assert list(cov["consequence"]) == list(report.CONSEQUENCES)
    assert isinstance(cov, pd.DataFrame) and (cov["chapters"] != "").all()
