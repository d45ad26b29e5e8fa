"""Why a notification failed, where, and whether trying again can help.

Alertmanager's rule, kept here: no answer at all (connection refused, timeout, TLS
failure), ``429 Too Many Requests`` and any ``5xx`` are worth retrying; any other status
outside ``2xx`` means the request itself is wrong (a revoked webhook, a bad token, a
malformed body) and will fail the same way again, so it is not retried. A template that
cannot render is not retried either.

Example:
    >>> e = NotifyError("unexpected status 503", receiver="ops", integration="webhook[0]",
    ...                 status=503)
    >>> str(e), e.retryable
    ("receiver 'ops' webhook[0]: unexpected status 503", True)
    >>> retryable_status(404), retryable_status(None)
    (False, True)
"""

from __future__ import annotations

from streams.errors import PulselineError


def retryable_status(status: int | None) -> bool:
    """Whether a failure with this HTTP status (None: no answer) may succeed later."""
    return status is None or status == 429 or 500 <= status <= 599


class NotifyError(PulselineError):
    """A notification could not be delivered by one integration.

    Messages never carry secrets: no URL path or query (Slack and webhook URLs hold
    tokens), no credentials.

    Attributes:
        receiver: the receiver's name.
        integration: the integration, as ``kind[index]`` (``webhook[0]``).
        status: the HTTP status answered, or None (no answer, or not HTTP).
        retryable: whether another attempt may succeed.
        reason: what went wrong, without the place.
    """

    def __init__(
        self,
        reason: str,
        *,
        receiver: str,
        integration: str,
        status: int | None = None,
        retryable: bool | None = None,
    ) -> None:
        self.reason = reason
        self.receiver = receiver
        self.integration = integration
        self.status = status
        self.retryable = retryable_status(status) if retryable is None else retryable
        super().__init__(f"receiver {receiver!r} {integration}: {reason}")
