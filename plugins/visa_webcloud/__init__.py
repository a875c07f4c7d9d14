"""The web cloud provider backend (type ``web``): VISA's generic HTTP cloud contract (spec §3.4).

A site runs a small HTTP service (the Proxmox provider is an example) that VISA drives with
``X-Auth-Token`` requests under ``<url>/api``. Existing site middleware keeps working unchanged.
"""

from visa_webcloud.backend import WebCloudBackend

__all__ = ["WebCloudBackend"]
