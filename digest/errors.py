"""The project's exceptions: one tree, each with a message that says what to check.

    DigestError                      anything the CLI reports in one line
    ├── ConfigError                  bad configuration or usage (exit status 2)
    │   └── QueryError               a malformed watchlist query (names the position)
    ├── StateError                   the state directory or database is unusable (exit 1)
    │   └── LockedError              another `digest` holds the state lock
    ├── SourceError                  one source failed; reported and skipped, never fatal
    │   └── FetchError               an HTTP fetch failed (status, timeout, size cap …)
    ├── MessageError                 a built message failed its safety self-check
    └── DeliveryError                a message could not be handed over
        ├── TemporaryDeliveryError   retry later (connection refused, timeout, 4xx)
        └── PermanentDeliveryError   do not retry (5xx, refused configuration)

Library errors are translated where they are caught and chained with ``from``.
"""

from __future__ import annotations


class DigestError(Exception):
    """Base of every error the CLI reports as one line instead of a traceback."""

    exit_status = 1


class ConfigError(DigestError):
    """The configuration (or the command line) is wrong; nothing was done."""

    exit_status = 2

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        self.path = path
        self.key = key
        prefix = ""
        if path:
            prefix += f"{path}: "
        if key:
            prefix += f"{key}: "
        super().__init__(prefix + message)


class QueryError(ConfigError):
    """A watchlist expression that cannot be parsed; ``position`` is 0-based in ``query``."""

    def __init__(self, message: str, *, query: str, position: int) -> None:
        self.query = query
        self.position = position
        self.reason = message
        super().__init__(f"{message} at position {position + 1} in {query!r}")


class StateError(DigestError):
    """The state directory or its database cannot be used."""


class LockedError(StateError):
    """Another `digest` process is working on the same state directory."""


class SourceError(DigestError):
    """A source (folder, feed) could not be read; the others carry on."""


class FetchError(SourceError):
    """An HTTP fetch failed. ``retry_after`` is seconds the server asked us to wait."""

    def __init__(self, message: str, *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


class MessageError(DigestError):
    """A built email failed the re-parse check (for example a smuggled header)."""


class DeliveryError(DigestError):
    """A message could not be delivered."""


class TemporaryDeliveryError(DeliveryError):
    """Worth retrying later: the message stays in the outbox."""


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help: the message is marked failed with the reason kept."""
