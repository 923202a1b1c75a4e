"""moto behind one door: the only modules of local_runtime that import moto.

The bridges reach moto's internals through these modules alone, so a moto upgrade that moves a
class or renames a method is fixed here (tests/unit/runtime/test_local_runtime_boundary.py
keeps it so):

- ``services``: the in-process AWS, and what bridges do past the public API (send to a queue,
  publish to a topic, read a backend's table or state machine, match an event pattern);
- ``hooks``: the moto methods bridges replace while installed, and ``Patches`` to undo them;
- ``stepfunctions``: moto's Step Functions interpreter (`.sync` Glue tasks, compressed time,
  aws-sdk task output); ``sfn_athena``: the Athena integration it lacks.
"""
