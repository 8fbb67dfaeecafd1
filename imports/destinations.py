"""Where else an import's rows may go: options a higher module adds to the import wizard.

The imports machinery names no module. A module that wants every imported row (marketing: "put them on
a static list") registers a `Destination` in its `importers.py` (autodiscovered with the importers):

- `fields(user, target)`: the form fields it adds to the mapping page ({}: not offered to this user or
  target); their names must start with the destination's `prefix`;
- `options(user, target, data)`: the options to keep on the job from the cleaned form data (None: not
  chosen); raises `forms.ValidationError` (bad or forged input: the page shows it, nothing is saved);
- `start(job, options)`: when the import starts (in its transaction, as the job's user): may turn the
  options into their final form (a new list named in the wizard is created here) — returns them;
- `add(job, options, object_ids)`: in each batch's transaction, with the ids of the records the batch
  created, updated or matched (never the failed rows); returns how many it added (the rest were there);
- `initial(options)`: the stored options as the form's initial values (the page shown again);
- `describe(job, options)`: one line for the preview ("The imported rows will be added to …");
- `result(job, options, counts)`: (text, url, link text) for the result page (url "": no link).

The job stores the options (`ImportJob.destinations`, {key: options}) and the counts
(`ImportJob.destination_counts`, {key: {"rows": n, "added": m}}), the counts in the batch's own
conditional UPDATE, so a resumed job counts each batch once.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Destination:
    key: str  # stored on jobs: never changes once used
    targets: tuple[str, ...]  # the importer keys it is offered for
    fields: Callable[[Any, str], dict[str, Any]]
    options: Callable[[Any, str, dict], dict | None]
    add: Callable[[Any, dict, list[int]], int]
    result: Callable[[Any, dict, dict], tuple[str, str, str]]
    describe: Callable[[Any, dict], str]
    start: Callable[[Any, dict], dict] = lambda job, options: options
    initial: Callable[[dict], dict] = lambda options: {}  # the form's initial values for stored options

    @property
    def prefix(self) -> str:
        return self.key.replace(".", "_") + "__"


REGISTRY: dict[str, Destination] = {}


def register(destination: Destination) -> Destination:
    REGISTRY[destination.key] = destination
    return destination


def for_target(target: str) -> list[Destination]:
    return [d for d in REGISTRY.values() if target in d.targets]


def chosen(job) -> Iterable[tuple[Destination, dict]]:
    """The destinations the job's user chose, with their options (an unregistered one is ignored)."""
    for key, options in (job.destinations or {}).items():
        destination = REGISTRY.get(key)
        if destination is not None and options is not None:
            yield destination, options
