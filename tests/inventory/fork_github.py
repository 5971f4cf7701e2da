"""The fake GitHub with pull requests from forks (a new file: tests/fakes stays as it is).

GitHub REST, "Get a pull request": `head.label` is `owner:ref` and `head.repo` the head's
repository; for a fork's PR both name the fork, whatever its branch is called."""

from __future__ import annotations

from typing import Any

from tests.fakes.github_server import FakeGitHub


class ForkingGitHub(FakeGitHub):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.forks: dict[int, str] = {}

    def open_fork_pr(self, fork: str, head: str, title: str) -> int:
        """A PR from `fork` (owner/name), its branch named `head`."""
        number = self.open_pr(title=title, head=head, user=fork.split("/")[0])
        self.forks[number] = fork
        return number

    def _pull_json(self, number: int, full: bool = False) -> Any:
        data = super()._pull_json(number, full)
        fork = self.forks.get(number)
        if fork is not None:
            owner, name = fork.split("/")
            data["head"] = {
                **data["head"],
                "label": f"{owner}:{data['head']['ref']}",
                "repo": {"name": name, "full_name": fork, "fork": True, "owner": {"login": owner}},
            }
        return data
