"""Entry point module: registers the ``kubernetes`` compute backend type.

The backend module (and with it the ``kubernetes`` package) is imported only when a cloud of
this type is built, so the base install without the ``kubernetes`` extra keeps working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from visa_platform.plugin import Register, hookimpl

if TYPE_CHECKING:
    from visa_platform.compute import BackendConfig, ComputeBackend


def build_kubernetes_backend(config: BackendConfig) -> ComputeBackend:
    """The registry factory: a clear configuration error when the extra is missing."""
    from visa_platform.compute import CloudConfigurationError

    try:
        import kubernetes.aio  # noqa: F401
    except ImportError as exc:
        raise CloudConfigurationError(
            f"cloud {config.name!r} uses the kubernetes backend, which needs the kubernetes "
            "package: pip install 'visa-platform[kubernetes]'"
        ) from exc
    from visa_kubernetes.backend import KubernetesBackend

    return KubernetesBackend(config)


@hookimpl
def visa_register_compute_backends(register: Register) -> None:
    register.add(
        "kubernetes",
        build_kubernetes_backend,
        description="Kubernetes: an instance is a pod plus a service (optional home volume)",
    )
