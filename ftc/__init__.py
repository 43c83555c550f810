"""ftc: a fine-tuning config compiler and launcher."""

__version__ = "0.1.0"
SCHEMA_VERSION = 1
