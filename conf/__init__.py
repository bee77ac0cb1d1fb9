"""sparkner's bundled settings: Spark defaults, logging, training configs.

Installed as the package ``sparkner.conf``.
"""
