"""An index command's progress (index.progress): the time left, where the Corpus tab shows it too."""

from __future__ import annotations

from index.progress import Progress, time_left


def test_the_time_left_is_said_in_words_at_the_pace_so_far():
    assert time_left(10, 100, 60.0) == "≈ 9 min"
    assert time_left(1, 3, 10.0) == "≈ 20 s"
    assert time_left(50, 200, 3600.0) == "≈ 3.0 h"
    assert time_left(0, 5, 1.0) == "" and time_left(5, 5, 10.0) == ""  # nothing known yet, or done


def test_the_bars_description_carries_the_time_left_which_gradio_shows():
    with Progress(10, "Ajout", enabled=True) as progress:
        progress.advance(2, 11)
        assert progress._bar.desc.startswith("Ajout · reste ≈ ")
        progress.advance(8, 40)
        assert progress._bar.desc == "Ajout" and progress.rates().chunks == 51
