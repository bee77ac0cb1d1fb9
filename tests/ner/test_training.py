"""Model selection and early stopping (sparkner.ner.training.BestEpoch)."""

from __future__ import annotations

from sparkner.ner.training import BestEpoch, TrainingSettings


def test_without_held_out_data_the_loss_decides_from_the_first_epoch():
    """Without a held-out set the score is minus the loss, often far below -1: every falling
    loss is an improvement, and only ``patience`` epochs without one stop training."""
    said: list[str] = []
    selection = BestEpoch(None, TrainingSettings(patience=2, use_best_model=False), said.append)
    assert not any(selection.stops_after(-loss) for loss in (13.0, 9.0, 7.5, 7.0))
    assert not selection.stops_after(-7.2)
    assert selection.stops_after(-7.1)
    assert said == ["early stop: no improvement for 2 epochs"]


def test_patience_zero_never_stops():
    selection = BestEpoch(None, TrainingSettings(patience=0, use_best_model=False), print)
    assert not any(selection.stops_after(0.5) for _ in range(10))
