"""Slack, locally: an incoming-webhook sink on 127.0.0.1 stands in for hooks.slack.com.

On install, every function that reads a webhook secret (SLACK_WEBHOOK_SECRET) gets the sink's
URL in that secret, as an operator fills the stack's empty secret after deploying, and is
allowed a loopback webhook (SLACK_ALLOW_LOCAL_WEBHOOK, never set by the template). What the
functions post is in ``sink.received``; ``sink.script(...)`` makes Slack answer 429 or 5xx.
"""

import json

from local_runtime.bridges import RuntimeServices
from local_runtime.slack_sink import SlackSink

WEBHOOK_SECRET_VARIABLE = "SLACK_WEBHOOK_SECRET"  # noqa: S105 - a variable name
ALLOW_LOCAL_VARIABLE = "SLACK_ALLOW_LOCAL_WEBHOOK"


class SlackBridge:
    def __init__(self) -> None:
        self.sink = SlackSink()
        self.secrets: set[str] = set()

    def install(self, services: RuntimeServices) -> None:
        self.sink.start()
        secrets = services.session.client("secretsmanager")
        for function in services.runner.functions.values():
            secret = function.environment.get(WEBHOOK_SECRET_VARIABLE)
            if not secret:
                continue
            if secret not in self.secrets:
                secrets.put_secret_value(
                    SecretId=secret, SecretString=json.dumps({"webhook_url": self.sink.url})
                )
                self.secrets.add(secret)
            function.environment[ALLOW_LOCAL_VARIABLE] = "true"

    def pump(self) -> int:
        return 0  # posts arrive synchronously, inside the invocations that make them

    def uninstall(self) -> None:
        self.sink.stop()
