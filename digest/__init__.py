"""digest: a browser-independent news digest and alerting daemon."""

__version__ = "0.1.0"
