"""The refusals: the domain's (a Chinese message for the user and the form field it concerns)
and the store's (a record that is not there, or changed since it was read)."""


class DomainError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class RecordNotFound(LookupError):
    pass


class StaleRecord(RuntimeError):
    """The record changed since the user loaded it (optimistic concurrency)."""

    def __init__(self, table: str, record_id: int, expected: int, actual: int):
        super().__init__(f"{table} #{record_id} 已被他人修改（版本 {expected} → {actual}）")
        self.table, self.record_id, self.expected, self.actual = table, record_id, expected, actual
