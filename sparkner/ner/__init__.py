"""The NER tagger: a char-CNN + BiLSTM + CRF model, its training loop and tag decoding."""

import os

# Every TensorFlow import of sparkner is in this package, in the driver and in each Python
# worker. TensorFlow's C++ start-up notices (CPU features, oneDNN, absl) would otherwise be
# printed by every one of them; it reads this when it loads. Set it to 0 to see them.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
