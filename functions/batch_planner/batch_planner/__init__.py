"""The batch planner: which tables a cadence's run merges now, in which Glue batches."""
