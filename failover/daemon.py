"""Assemble a controller from its config and run it as a daemon.

`build(cfg)` turns the validated config into backends (resolving secrets from
the environment or files at this moment); `run(cfg)` installs signal handlers
that only set the stop flag, starts `/metrics` + `/status`, and runs the loop
until SIGTERM/SIGINT, then releases the leader lock so a standby takes over
at once (resuming any operation left in progress).
"""

from __future__ import annotations

import logging
from typing import Any

from bedrock.errors import SetupError
from failover.backends.base import LeaderLock, Notifier, Scaler, TrafficSwitch
from failover.backends.cloudflare import CloudflareDNSSwitch
from failover.backends.etcd_lock import EtcdLock
from failover.backends.haproxy import HAProxyRuntimeSwitch
from failover.backends.lease_lock import KubernetesLeaseLock, LocalLock
from failover.backends.simple import (
    FanoutNotifier,
    LocalStackScaler,
    LogNotifier,
    SlackNotifier,
    load_stack_control,
)
from failover.config import (
    CloudflareSwitchConfig,
    EtcdLockConfig,
    FailoverConfig,
    HAProxySwitchConfig,
    IngressSwitchConfig,
    K8sLeaseLockConfig,
    K8sScalerConfig,
    LocalScalerConfig,
    SlackNotifierConfig,
    SwitchConfig,
)
from failover.controller import Controller
from failover.events import EventLog
from failover.server import StatusServer

log = logging.getLogger("failover")


class _Kube:
    """Build the kubernetes ApiClient only when a backend needs it."""

    def __init__(self, cfg: FailoverConfig) -> None:
        self.cfg = cfg
        self._client: Any = None

    def get(self) -> Any:
        if self._client is None:
            from failover.backends.kube import make_api_client

            self._client = make_api_client(self.cfg.kubernetes)
        return self._client


def _switch(sw: SwitchConfig, key: str, kube: _Kube) -> TrafficSwitch:
    if isinstance(sw, HAProxySwitchConfig):
        return HAProxyRuntimeSwitch(sw.socket, sw.backend, sw.shutdown_sessions, sw.timeout_s)
    if isinstance(sw, CloudflareSwitchConfig):
        return CloudflareDNSSwitch(
            api_base=sw.api_base, token=sw.token.resolve(f"{key}.token"), zone_id=sw.zone_id,
            record_name=sw.record_name, contents=sw.contents, record_type=sw.record_type, timeout_s=sw.timeout_s,
        )  # fmt: skip
    if isinstance(sw, IngressSwitchConfig):
        from failover.backends.kube import IngressSwitch

        return IngressSwitch(kube.get(), sw.namespace, sw.ingress, sw.services)
    raise AssertionError(sw)


def build(cfg: FailoverConfig) -> Controller:
    kube = _Kube(cfg)
    traffic = _switch(cfg.traffic, "traffic", kube)
    lb = _switch(cfg.load_balancer, "load_balancer", kube) if cfg.load_balancer else None
    scaler: Scaler | None = None
    if isinstance(cfg.scaler, LocalScalerConfig):
        scaler = LocalStackScaler(load_stack_control(cfg.scaler.factory, cfg.scaler.options))
    elif isinstance(cfg.scaler, K8sScalerConfig):
        from failover.backends.kube import DeploymentScaler

        scaler = DeploymentScaler(kube.get(), cfg.scaler.namespace, cfg.scaler.deployments)
    notifiers: list[Notifier] = []
    for i, n in enumerate(cfg.notifiers):
        if isinstance(n, SlackNotifierConfig):
            notifiers.append(
                SlackNotifier(n.webhook_url.resolve(f"notifiers.{i}.webhook_url"), n.timeout_s)
            )
        else:
            notifiers.append(LogNotifier())
    lock: LeaderLock
    if isinstance(cfg.lock, EtcdLockConfig):
        lock = EtcdLock(
            cfg.lock.endpoints, cfg.identity, cfg.lock.prefix, cfg.lock.ttl_s, cfg.lock.timeout_s
        )
    elif isinstance(cfg.lock, K8sLeaseLockConfig):
        lock = KubernetesLeaseLock(
            kube.get(), cfg.lock.namespace, cfg.lock.name, cfg.identity, cfg.lock.lease_duration_s
        )
    else:
        lock = LocalLock(cfg.identity, cfg.lock.state_file)
    events = EventLog(cfg.events_path)
    return Controller(
        cfg, lock=lock, traffic=traffic, load_balancer=lb, scaler=scaler,
        notifier=FanoutNotifier(notifiers), events=events,
    )  # fmt: skip


def run(cfg: FailoverConfig) -> int:
    controller = build(cfg)
    server: StatusServer | None = None
    if cfg.listen is not None:
        try:
            server = StatusServer(controller, cfg.listen.host, cfg.listen.port).start()
        except OSError as exc:
            controller.shutdown()
            raise SetupError(f"listen {cfg.listen.host}:{cfg.listen.port}: {exc.strerror}") from exc
        controller.advertise_url = server.url
        log.info("%s: /status and /metrics on %s", cfg.identity, server.url)

    try:
        with controller.signals_stop():  # the handlers only set a flag: the loop does the work
            controller.run()
    finally:
        if server is not None:
            server.stop()
    log.info("%s stopped", cfg.identity)
    return 0
