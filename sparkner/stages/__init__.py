"""Stage bases: an annotator as a Spark ML ``Transformer`` (:mod:`.stage`), a model backed by
a folder of files and its approach (:mod:`.model`), and saving and safe loading
(:mod:`.persistence`). The stage classes themselves are in :mod:`sparkner.annotators`."""
