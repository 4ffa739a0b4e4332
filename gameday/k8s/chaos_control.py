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
from gameday.events import now, record_event
from gameday.k8s.allowlist import (
    IN_CLUSTER,
    default_kubeconfig,
    load_allowlist,
    require_allowed,
    resolve_context,
)

_started: dict[str, tuple[float, float]] = {}
_lock = threading.Lock()


def chosen_context(secrets: Mapping[str, Any] | None, env: Mapping[str, str]) -> str:
    """The context chaostoolkit-kubernetes would use (InputError when there is none)."""
    named = None
    for scope in (secrets or {}).values():
        if isinstance(scope, Mapping) and scope.get("KUBERNETES_CONTEXT"):
            named = str(scope["KUBERNETES_CONTEXT"])
    named = named or env.get("KUBERNETES_CONTEXT") or None
    kubeconfig = default_kubeconfig(env)
    if kubeconfig is None or not kubeconfig.is_file():
        if env.get("CHAOSTOOLKIT_IN_POD") == "true" or env.get("KUBERNETES_SERVICE_HOST"):
            return IN_CLUSTER
        kubeconfig = None
    return resolve_context(kubeconfig, named, env)


def check_allowed(secrets: Mapping[str, Any] | None, env: Mapping[str, str] | None = None) -> str:
    """The allowed context; InterruptExecution (with the reason) when it is not allowed."""
    env = os.environ if env is None else env
    try:
        context = chosen_context(secrets, env)
        require_allowed([context], load_allowlist(env), env)
    except GamedayError as exc:
        raise InterruptExecution(f"gameday-k8s: {exc}") from None
    return context


def _secrets(kwargs: Mapping[str, Any]) -> Mapping[str, Any] | None:
    secrets = kwargs.get("secrets")
    return secrets if isinstance(secrets, Mapping) else None


def before_experiment_control(context: dict[str, Any], **kwargs: Any) -> None:
    check_allowed(_secrets(kwargs))


def before_activity_control(context: dict[str, Any], **kwargs: Any) -> None:
    check_allowed(_secrets(kwargs))
    if context.get("type") == "action":
        with _lock:
            _started[str(context.get("name"))] = now()


def after_activity_control(context: dict[str, Any], state: Any = None, **kwargs: Any) -> None:
    if context.get("type") != "action":
        return
    name = str(context.get("name"))
    with _lock:
        at = _started.pop(name, None)
    experiment = kwargs.get("experiment") or {}
    rollback_names = {
        a.get("name") for a in experiment.get("rollbacks") or [] if isinstance(a, dict)
    }
    run = state if isinstance(state, dict) else {}
    if run.get("status") != "succeeded":
        return  # a failed action caused nothing we can point at
    kind = "fault.rolled_back" if name in rollback_names else "fault.injected"
    if name.startswith("hold-") or name.startswith("wait-"):
        return  # holding the fault window is not a fault
    record_event(None, kind, "chaos", at=at, target=name, result=run.get("output"))
