"""Every sample event the SAM CLI in the venv generates (`sam local generate-event`), made at
test time with its own defaults: the corpus of shapes is AWS's, not ours."""

import json
from functools import cache
from typing import Any

from samcli.lib.generated_sample_events.events import Events


@cache
def generated_events() -> dict[str, Any]:
    """``service/event-type`` (as `sam local generate-event SERVICE EVENT-TYPE` names it) ->
    the event, with the defaults the CLI fills in when given no options."""
    library = Events()
    shapes: dict[str, Any] = {}
    for service, event_types in library.event_mapping.items():
        for event_type, spec in event_types.items():
            defaults = {tag: option.get("default") for tag, option in spec["tags"].items()}
            shapes[f"{service}/{event_type}"] = json.loads(
                library.generate_event(service, event_type, defaults)
            )
    return shapes
