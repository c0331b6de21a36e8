"""Archive writes: sealing packages, publishing roots, export, disposal."""

from archive.services.disposal import disposal_decide, disposal_request
from archive.services.export import package_export
from archive.services.seal import ProjectInfo, package_seal, roots_publish

__all__ = [
    "ProjectInfo",
    "disposal_decide",
    "disposal_request",
    "package_export",
    "package_seal",
    "roots_publish",
]
