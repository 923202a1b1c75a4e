"""The Redshift auditor: sensitive statements in the user-activity log stored and sent to Slack."""
