"""The NER tagger: a char-CNN + BiLSTM + CRF model, its training loop and tag decoding."""
