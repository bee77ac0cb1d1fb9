from sparkner.ner.metrics import error_classes


def test_each_error_is_counted_once_by_kind():
    gold = [[(0, 9, "PROBLEM"), (20, 24, "TEST"), (40, 44, "PROBLEM"), (60, 64, "TREATMENT")]]
    predicted = [
        [
            (0, 9, "PROBLEM"),  # right
            (21, 24, "TEST"),  # boundary
            (40, 44, "TREATMENT"),  # type
            (80, 84, "PROBLEM"),  # spurious
        ]
    ]
    counts = error_classes(gold, predicted)
    # (60, 64) is missed; (20, 24) and (40, 44) are not missed again.
    assert counts == {"boundary": 1, "type": 1, "spurious": 1, "missed": 1}


def test_no_errors_counts_zero_of_each_kind():
    spans = [[(3, 5, "TEST")]]
    assert error_classes(spans, spans) == {"boundary": 0, "type": 0, "spurious": 0, "missed": 0}
