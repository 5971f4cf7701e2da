"""Git as `retrain.delivery.gitrev.GitReader` reads it: a file at a revision, or None."""

from __future__ import annotations


class FakeGit:
    """Files by (revision, path); no revision changes any file."""

    def __init__(self, files: dict[tuple[str, str], str]) -> None:
        self.files = files

    def changed_files(self, base: str, head: str) -> list[str]:
        return []

    def show(self, rev: str, path: str) -> str | None:
        return self.files.get((rev, path))
