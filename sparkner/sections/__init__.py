"""Section engine: the table of section names and their header variants (:mod:`.names`) and
the header rules that find them in a note (:mod:`.headers`). Pure functions over strings and
Arrow arrays; no Spark, no stages."""
