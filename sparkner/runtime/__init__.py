"""The Spark runtime: the vectorized UDF (:mod:`.udf`), a pipeline planned as steps and run in
one UDF (:mod:`.steps`, :mod:`.fused`), model folders shipped to executors
(:mod:`.shipping`), the session and its Java (:mod:`.session`, :mod:`.java`), scratch
folders (:mod:`.scratch`) and test-only fault injection (:mod:`.faults`)."""
