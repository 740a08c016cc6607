"""The base of every domain error: a message, a stable machine ``code`` and an HTTP status.

Apps subclass it for their own refusals; config/exceptions.py is the one place that turns it into JSON.
"""


class DomainError(Exception):
    status_code = 400
    default_code = "error"

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        if status_code is not None:
            self.status_code = status_code
        self.extra = extra
