"""The embedded default: run template.yaml locally on moto, in-process, without Docker or AWS.

Development and test infrastructure only; never deployed. ``LocalRuntime`` translates the SAM
template offline, deploys it into moto's CloudFormation, runs our Lambda handlers in-process
when something invokes them, and routes what moto does not (see ``bridges``).
"""

from local_runtime.runtime import LocalRuntime

__all__ = ["LocalRuntime"]
