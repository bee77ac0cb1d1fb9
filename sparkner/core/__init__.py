"""The annotation core: the annotation schema and its batch readers and writers
(:mod:`.annotation`), declared params (:mod:`.params`) and versioned file formats
(:mod:`.formats`). It imports nothing else of sparkner's; every other layer builds on it."""
