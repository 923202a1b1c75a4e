"""The pipeline monitor: every monitored event stored, failures sent to Slack."""
