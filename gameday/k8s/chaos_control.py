"""A Chaos Toolkit control for the Kubernetes experiments: the context allowlist, and fault stamps.

Every file in experiments/k8s/ declares it:

    controls:
    - name: gameday-k8s
      provider: {type: python, module: gameday.k8s.chaos_control}

1. **Allowlist, before any connection.** Before the experiment and before every activity
   (probes, actions and rollbacks alike), the kube context chaostoolkit-kubernetes would
   use is resolved the way it resolves it (`KUBERNETES_CONTEXT` from the experiment's
   secrets, else the environment, else the kubeconfig's current-context; no kubeconfig
   inside a pod is `in-cluster`) and checked against the allowlist (allowlist.py). A
   context not listed, or KUBERNETES_HOST/KUBERNETES_API_KEY set (they bypass the
   kubeconfig), raises InterruptExecution: the activity never runs, so no client is built
   and no request is sent. A rollback is refused the same way.
2. **Fault stamps.** chaostoolkit-kubernetes' actions know nothing of gameday's run
   folder; for each action of the method this control stamps `fault.injected` in
   `$GAMEDAY_RUN_DIR/events.jsonl` at the instant the action started (and
   `fault.rolled_back` for rollbacks), with the action's output as evidence (the pods
   it deleted). Without a run folder it stamps nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from chaoslib.exceptions import InterruptExecution

from bedrock.errors import GamedayError
from bedrock.runfolder.events import now, record_event
from gameday.k8s.allowlist import (
    IN_CLUSTER,
    default_kubeconfig,
    load_allowlist,
    require_allowed,
    resolve_context,
)

_started: dict[str, tuple[float, float]] = {}
_lock = threading.Lock()


def chosen_contexts(secrets: Mapping[str, Any] | None, env: Mapping[str, str]) -> list[str]:
    """Every context chaostoolkit-kubernetes could use in this experiment: each secrets
    scope's KUBERNETES_CONTEXT, and the one an activity without secrets gets
    ($KUBERNETES_CONTEXT, else the current-context). InputError when one does not exist."""
    named = [
        str(scope["KUBERNETES_CONTEXT"])
        for scope in (secrets or {}).values()
        if isinstance(scope, Mapping) and scope.get("KUBERNETES_CONTEXT")
    ]
    kubeconfig = default_kubeconfig(env)
    if kubeconfig is None or not kubeconfig.is_file():
        if env.get("CHAOSTOOLKIT_IN_POD") == "true" or env.get("KUBERNETES_SERVICE_HOST"):
            return [IN_CLUSTER]
        kubeconfig = None
    fallback = env.get("KUBERNETES_CONTEXT") or None
    return [resolve_context(kubeconfig, n, env) for n in [*named, fallback]]


def check_allowed(
    secrets: Mapping[str, Any] | None, env: Mapping[str, str] | None = None
) -> list[str]:
    """The allowed contexts; InterruptExecution (with the reason) when one is not allowed."""
    env = os.environ if env is None else env
    try:
        contexts = chosen_contexts(secrets, env)
        require_allowed(contexts, load_allowlist(env), env)
    except GamedayError as exc:
        raise InterruptExecution(f"gameday-k8s: {exc}") from None
    return contexts


# chaoslib passes a control only the arguments its signature names (secrets, state,
# experiment, ...): they are spelled out below, never taken from **kwargs.
_rolling_back = threading.Event()


def before_experiment_control(
    context: dict[str, Any], secrets: Mapping[str, Any] | None = None, **kwargs: Any
) -> None:
    _rolling_back.clear()
    check_allowed(secrets)


def before_rollback_control(context: Any, **kwargs: Any) -> None:
    _rolling_back.set()


def after_rollback_control(context: Any, **kwargs: Any) -> None:
    _rolling_back.clear()


def before_activity_control(
    context: dict[str, Any], secrets: Mapping[str, Any] | None = None, **kwargs: Any
) -> None:
    check_allowed(secrets)
    if context.get("type") == "action":
        with _lock:
            _started[str(context.get("name"))] = now()


def after_activity_control(context: dict[str, Any], state: Any = None, **kwargs: Any) -> None:
    if context.get("type") != "action":
        return
    name = str(context.get("name"))
    with _lock:
        at = _started.pop(name, None)
    run = state if isinstance(state, dict) else {}
    if run.get("status") != "succeeded" or name.startswith(("hold-", "wait-")):
        return  # a failed action caused nothing we can point at; a hold is not a fault
    kind = "fault.rolled_back" if _rolling_back.is_set() else "fault.injected"
    record_event(None, kind, "chaos", at=at, target=name, result=run.get("output"))
