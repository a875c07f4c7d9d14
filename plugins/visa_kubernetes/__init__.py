"""The Kubernetes compute backend (type ``kubernetes``): an instance is a pod and a service.

The ``kubernetes`` package (the ``kubernetes`` extra) is imported only when a backend is built,
so the platform installs and runs without it. See docs/kubernetes.md.
"""
