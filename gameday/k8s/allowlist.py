"""Which kube contexts gameday may touch: an explicit allowlist, checked before any API call.

A game day deletes pods and scales regions to zero, so the Kubernetes target
never acts on "whatever context is current". The allowlist comes from the
environment variable ALLOWED_CONTEXTS_ENV (comma-separated) and/or the file
named by ALLOWED_CONTEXTS_FILE_ENV (one context per line, `#` comments).
Nothing listed means nothing allowed. A context is resolved from the
kubeconfig file alone (reading YAML, no network); in a pod with no kubeconfig
the context is called IN_CLUSTER and must be listed like any other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bedrock.errors import ConfigError, InputError
from bedrock.loader import load_data, read_text

ALLOWED_CONTEXTS_ENV = "GAMEDAY_K8S_ALLOWED_CONTEXTS"
ALLOWED_CONTEXTS_FILE_ENV = "GAMEDAY_K8S_ALLOWED_CONTEXTS_FILE"
IN_CLUSTER = "in-cluster"
# chaostoolkit-kubernetes builds its client from these when set, ignoring the
# kubeconfig context: they would bypass the allowlist.
BYPASS_VARIABLES = ("KUBERNETES_HOST", "KUBERNETES_API_KEY")


@dataclass(frozen=True)
class Allowlist:
    """The allowed context names and where they came from (for error messages)."""

    contexts: frozenset[str]
    sources: tuple[str, ...]

    def describe(self) -> str:
        where = " and ".join(self.sources) if self.sources else "nowhere"
        listed = ", ".join(sorted(self.contexts)) or "none"
        return f"allowed contexts ({where}): {listed}"


def load_allowlist(env: Mapping[str, str] | None = None, file: Path | None = None) -> Allowlist:
    """The allowlist from the environment and/or a file; InputError if the file is unreadable."""
    env = os.environ if env is None else env
    contexts: set[str] = set()
    sources: list[str] = []
    raw = env.get(ALLOWED_CONTEXTS_ENV, "")
    if raw.strip():
        contexts |= {c.strip() for c in raw.split(",") if c.strip()}
        sources.append(f"${ALLOWED_CONTEXTS_ENV}")
    path = file or (
        Path(env[ALLOWED_CONTEXTS_FILE_ENV]) if env.get(ALLOWED_CONTEXTS_FILE_ENV) else None
    )
    if path is not None:
        try:
            lines = read_text(path, max_bytes=256 * 1024).splitlines()
        except ConfigError as exc:
            raise InputError(
                f"{path}: cannot read the kube context allowlist: {'; '.join(exc.problems)}"
            ) from None
        contexts |= {ln.split("#", 1)[0].strip() for ln in lines} - {""}
        sources.append(str(path))
    return Allowlist(frozenset(contexts), tuple(sources))


def default_kubeconfig(env: Mapping[str, str] | None = None) -> Path | None:
    """$KUBECONFIG (first entry) or ~/.kube/config when it exists; None otherwise."""
    env = os.environ if env is None else env
    if env.get("KUBECONFIG"):
        return Path(env["KUBECONFIG"].split(os.pathsep)[0]).expanduser()
    home = Path(env.get("HOME", str(Path.home()))) / ".kube" / "config"
    return home if home.is_file() else None


def read_contexts(kubeconfig: Path) -> tuple[list[str], str | None]:
    """(context names, current-context) from a kubeconfig file, without any network."""
    data: Any = load_data(kubeconfig)
    if not isinstance(data, dict):
        raise ConfigError(str(kubeconfig), ["(top level): not a kubeconfig (expected a mapping)"])
    contexts = data.get("contexts") or []
    if not isinstance(contexts, list):
        raise ConfigError(str(kubeconfig), ["contexts: expected a list"])
    names = [
        str(c["name"])
        for c in contexts
        if isinstance(c, dict) and isinstance(c.get("name"), str) and c["name"]
    ]
    current = data.get("current-context") or None
    if current is not None and not isinstance(current, str):
        raise ConfigError(str(kubeconfig), ["current-context: expected a string"])
    return names, (str(current) if current else None)


def resolve_context(
    kubeconfig: Path | None, context: str | None, env: Mapping[str, str] | None = None
) -> str:
    """The context that would be used: the named one, else the kubeconfig's current one.

    With no kubeconfig inside a pod (KUBERNETES_SERVICE_HOST set) it is IN_CLUSTER.
    InputError when the context does not exist or none can be determined.
    """
    env = os.environ if env is None else env
    if kubeconfig is None:
        if env.get("KUBERNETES_SERVICE_HOST") and context in (None, IN_CLUSTER):
            return IN_CLUSTER
        raise InputError(
            "no kubeconfig: set KUBECONFIG, create ~/.kube/config, or give `kubeconfig:`"
        )
    names, current = read_contexts(kubeconfig)
    chosen = context or current
    if chosen is None:
        raise InputError(f"{kubeconfig}: no current-context and no context given")
    if chosen not in names:
        raise InputError(
            f"{kubeconfig}: no context named {chosen!r} (it has: {', '.join(names) or 'none'})"
        )
    return chosen


def require_allowed(
    contexts: list[str], allowlist: Allowlist, env: Mapping[str, str] | None = None
) -> None:
    """InputError (exit 2) unless every context is on the allowlist and nothing bypasses it."""
    env = os.environ if env is None else env
    bypass = [v for v in BYPASS_VARIABLES if env.get(v)]
    if bypass:
        raise InputError(
            f"{', '.join(bypass)} set: chaostoolkit-kubernetes would use it instead of the "
            "allowlisted kube context; unset it"
        )
    refused = sorted({c for c in contexts if c not in allowlist.contexts})
    if refused:
        raise InputError(
            f"kube context {', '.join(repr(c) for c in refused)} not on the allowlist; "
            f"refusing before any API call. {allowlist.describe()}. "
            f"Add it to ${ALLOWED_CONTEXTS_ENV} or the file in ${ALLOWED_CONTEXTS_FILE_ENV}."
        )
