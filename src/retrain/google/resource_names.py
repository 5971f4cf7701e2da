"""What Google accepts as a project id and a region name, and what a commit sha looks like:
checked where settings, compile options and the delivery configuration are built, so a typo
is a clear error before any request. Pure: no client is imported."""

# Project ids: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter
# and not ending with a hyphen (Resource Manager reference: Project.projectId).
PROJECT_PATTERN = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"
REGION_PATTERN = r"^[a-z]+-[a-z]+[0-9]$"
SHA_PATTERN = r"^([0-9a-f]{7,40})?$"
