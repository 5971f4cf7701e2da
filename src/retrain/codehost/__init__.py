"""Where comparisons are posted: the CodeHost port, a GitHub adapter and a local one.

The GitHub adapter (PyGithub) is imported only by whoever builds it, so the local stack and
the pure core do not pay for importing PyGithub.
"""

from retrain.codehost.local import LocalCodeHost
from retrain.codehost.port import (
    CodeHost,
    PostedComment,
    PromotionPR,
    PromotionRequest,
    with_marker,
)
from retrain.codehost.spec_edit import set_promotion_version

__all__ = [
    "CodeHost",
    "LocalCodeHost",
    "PostedComment",
    "PromotionPR",
    "PromotionRequest",
    "set_promotion_version",
    "with_marker",
]
