"""Report remote QA.tech test runs as ordinary pytest items."""

__version__ = "0.1.0"
