"""Small backends: the local stack scaler, the log and Slack notifiers, a fan-out.

`LocalStackScaler` depends only on the `StackControl` protocol (`scale`,
`ready_replicas`), not on the stack module; `load_stack_control("mod:func")`
builds it from the config. `SlackNotifier` posts to an incoming webhook with
httpx; the URL is a secret and never appears in errors or logs.
`FanoutNotifier` delivers to all and never lets a notification failure stop
a failover: it logs the failure instead.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import httpx
from pydantic import SecretStr

from bedrock.errors import InputError
from failover.backends.base import Notifier, Scaler, StackControl
from failover.errors import NotifierError, ScalerError

log = logging.getLogger("failover")


def load_stack_control(factory: str, options: dict[str, Any]) -> StackControl:
    module_name, _, attr = factory.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"scaler.factory: cannot load {factory!r}: {exc}") from exc
    control = obj(**options)
    for method in ("scale", "ready_replicas"):
        if not callable(getattr(control, method, None)):
            raise InputError(f"scaler.factory: {factory!r} returned an object without {method}()")
    return control  # type: ignore[no-any-return]


class LocalStackScaler(Scaler):
    name = "local"

    def __init__(self, stack: StackControl) -> None:
        self.stack = stack

    def scale(self, region: str, replicas: int) -> None:
        try:
            self.stack.scale(region, replicas)
        except ScalerError:
            raise
        except Exception as exc:
            raise ScalerError(
                f"local scale {region} -> {replicas}: {type(exc).__name__}: {exc}"
            ) from exc

    def ready_replicas(self, region: str) -> int:
        try:
            return int(self.stack.ready_replicas(region))
        except Exception as exc:
            raise ScalerError(
                f"local ready_replicas {region}: {type(exc).__name__}: {exc}"
            ) from exc


class LogNotifier(Notifier):
    name = "log"

    def notify(self, message: str, *, level: str = "info") -> None:
        log.log(
            {"info": logging.INFO, "warning": logging.WARNING}.get(level, logging.CRITICAL),
            "notify: %s",
            message,
        )


_ICON = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}


class SlackNotifier(Notifier):
    name = "slack"

    def __init__(self, webhook_url: SecretStr, timeout_s: float = 3.0) -> None:
        self._url = webhook_url
        self._client = httpx.Client(timeout=timeout_s)

    def notify(self, message: str, *, level: str = "info") -> None:
        text = f"{_ICON.get(level, '')} {message}".strip()
        try:
            resp = self._client.post(self._url.get_secret_value(), json={"text": text})
        except httpx.HTTPError as exc:
            # the exception text may contain the URL: keep only its type
            raise NotifierError(f"slack webhook: {type(exc).__name__}") from None
        if resp.status_code != 200:
            raise NotifierError(
                f"slack webhook: HTTP {resp.status_code} {resp.text[:100]}",
                retryable=resp.status_code == 429 or resp.status_code >= 500,
            )


class FanoutNotifier(Notifier):
    name = "fanout"

    def __init__(self, notifiers: list[Notifier]) -> None:
        self.notifiers = notifiers
        self.failures = 0

    def notify(self, message: str, *, level: str = "info") -> None:
        for n in self.notifiers:
            try:
                n.notify(message, level=level)
            except NotifierError as exc:
                self.failures += 1
                log.warning("notifier %s failed: %s", n.name, exc)
