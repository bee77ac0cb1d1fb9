"""The annotators: one module each, every one a Spark ML stage over a pure batch function."""
