"""A plan's errors: each names the file, the key path and the line."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PlanError:
    file: str
    path: str
    line: int | None
    message: str

    def __str__(self):
        where = f" {self.path}" if self.path else ""
        at = f" (line {self.line})" if self.line else ""
        if where:
            return f"{self.file}:{where}{at}: {self.message}"
        return f"{self.file}{at}: {self.message}"


class PlanInvalid(Exception):
    def __init__(self, errors):
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


def format_path(parts):
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
