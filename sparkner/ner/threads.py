"""How many threads the tagger's TensorFlow runs (no TensorFlow import until it is sized).

Every op runs on one thread: the BiLSTM's per-step matrix products are too small to gain
from splitting over threads, and lose to the splitting's overhead. The parallelism is across
ops instead (the two directions of the BiLSTM run side by side).
"""

from __future__ import annotations

from sparkner.ner.tensorflow_import import import_tensorflow

# A process of its own (the LightPipeline, training in the driver). On 2 cores, against
# TensorFlow's defaults: one 98-token note 7.8 ms (9.5), 1,000 notes 78k tokens/s (75k), an
# NCBI-disease training epoch 6.3-6.8 s (7.4-7.7).
LOCAL_OPS_AT_ONCE = 2


def configure_threads(ops_at_once: int | None) -> None:
    """One thread per op and ``ops_at_once`` ops at a time (before TensorFlow's first op; a
    process that already started TensorFlow keeps its own pools)."""
    if not ops_at_once:
        return
    tf = import_tensorflow()

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(ops_at_once)
    except RuntimeError:
        pass  # TensorFlow already started in this process: keep its pools
