"""Domain errors. Every message is French and meant for the user who caused it."""


class DomainError(Exception):
    """Base of the errors that a user can fix or must be told about."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(DomainError):
    """The input cannot be accepted as given (format, range, consistency)."""


class IllegalTransition(DomainError):
    """The requested change of status is not allowed from the current status."""


class NotFound(DomainError):
    """The object does not exist or is not visible to the caller."""


class Forbidden(DomainError):
    """The caller may not do this."""


class Throttled(DomainError):
    """Too many attempts: try again later."""
