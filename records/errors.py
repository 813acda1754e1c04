"""The domain's refusals: a Chinese message for the user and the form field it concerns."""


class DomainError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
