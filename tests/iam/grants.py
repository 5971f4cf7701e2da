"""What Terraform grants (infra/iam.json) and what each role carries (role_permissions.json,
from Google's IAM roles reference; our custom roles exactly as iam.json defines them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).parents[2]
IAM: dict[str, Any] = json.loads((REPO / "infra" / "iam.json").read_text())
GRANTS: list[dict[str, str]] = IAM["grants"]
ROLES: dict[str, list[str]] = {
    k: v
    for k, v in json.loads((Path(__file__).parent / "role_permissions.json").read_text()).items()
    if not k.startswith("_")
} | {f"custom:{k}": r["permissions"] for k, r in IAM.get("custom_roles", {}).items()}
