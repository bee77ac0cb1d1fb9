"""The annotation core: the annotation schema and its batch readers and writers
(:mod:`.annotation`), declared params (:mod:`.params`), versioned file formats
(:mod:`.formats`) and path schemes (:mod:`.paths`). It imports nothing else of sparkner's;
every other layer builds on it."""
