"""salesdash: sales analytics with one definition of every metric."""

__version__ = "0.1.0"
