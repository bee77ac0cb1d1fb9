"""Training-time tools: data splits, corpora readers, recipes for the bundled models."""
