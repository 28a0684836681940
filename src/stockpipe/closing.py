"""One definition of "usable in a with-statement, closed on the way out"."""

from __future__ import annotations

from typing import Self


class ClosesOnExit:
    """Mixin for objects that hold a resource: `with obj:` calls `obj.close()` at the end."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
