"""Text engines: the tokenizing rules (:mod:`.tokenizing`), the sentence rules
(:mod:`.sentences`) and the abbreviations both know (:mod:`.abbreviations`). Pure functions
over strings and Arrow arrays; no Spark, no stages."""
