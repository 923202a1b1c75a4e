"""The object task scheduler: each upload a rule matches gets a task, its ledger item and a
trigger (an EventBridge Scheduler one-time schedule, or a delayed message when due soon)."""
