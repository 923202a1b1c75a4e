"""The embedded default: run a SAM template locally on moto, in-process, without Docker or AWS.

Development and test infrastructure only; never deployed. ``LocalRuntime`` translates the SAM
template offline, deploys it into moto's CloudFormation, runs the template's Lambda handlers
in-process when something invokes them, and routes what moto does not (see ``bridges``).

A generic library: it imports nothing of the project it runs. What only a project knows (the
local runner of a Glue job) is given to it: ``LocalRuntime(glue_jobs=...)``; this project's
wiring is dev/ (``dev.runtime.project_runtime``). moto's internals are reached through
``moto_adapter`` only; the Athena stand-in is ``engines.athena``.
"""

from local_runtime.runtime import LocalRuntime

__all__ = ["LocalRuntime"]
