"""What a job needs: the ECR capabilities as sets of actions, in one table.

Every rule that talks about "can pull" or "partial push" reads this table, so the definition of a
capability lives in exactly one place (facts page, "Capabilities: which actions a job needs").
Action names are in the catalogue's spelling; ``ecr:GetAuthorizationToken`` is wildcard-only and is
asked on ``*``, every other action here on the repository.
"""

from __future__ import annotations

from dataclasses import dataclass

LOGIN = "ecr:GetAuthorizationToken"


@dataclass(frozen=True)
class Capability:
    name: str
    title: str
    #: actions on the repository that the capability needs
    repository_actions: tuple[str, ...]
    #: whether it also needs ``ecr:GetAuthorizationToken`` on ``*``
    needs_login: bool
    #: actions that only make sense for this capability: holding one of them without the rest is a
    #: half-configured grant; actions shared with other capabilities (BatchCheckLayerAvailability
    #: comes with AWS's ReadOnly policy) do not count
    distinctive_actions: tuple[str, ...] = ()
    #: writes: push or administration, which the broad/stale write rules look at
    writes: bool = False

    @property
    def actions(self) -> tuple[str, ...]:
        return ((LOGIN,) if self.needs_login else ()) + self.repository_actions


CAPABILITIES: tuple[Capability, ...] = (
    Capability("login", "Log in (docker login / get-login-password)", (), needs_login=True),
    Capability(
        "pull", "Pull images",
        ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"), needs_login=True,
        distinctive_actions=("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
    ),
    Capability(
        "push", "Push images",
        ("ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
         "ecr:CompleteLayerUpload", "ecr:PutImage"),
        needs_login=True,
        distinctive_actions=("ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                             "ecr:CompleteLayerUpload", "ecr:PutImage"),
        writes=True,
    ),
    Capability(
        "pull_through_cache", "Pull through cache",
        ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchImportUpstreamImage"),
        needs_login=True,
    ),
    Capability(
        "lifecycle_admin", "Administer lifecycle policies",
        ("ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy",
         "ecr:StartLifecyclePolicyPreview", "ecr:GetLifecyclePolicyPreview"),
        needs_login=False, writes=True,
    ),
    Capability(
        "policy_admin", "Administer repository policies (can grant others access)",
        ("ecr:SetRepositoryPolicy", "ecr:GetRepositoryPolicy", "ecr:DeleteRepositoryPolicy"),
        needs_login=False, writes=True,
    ),
    Capability(
        "repository_admin", "Create and delete repositories and images",
        ("ecr:CreateRepository", "ecr:DeleteRepository", "ecr:BatchDeleteImage",
         "ecr:PutImageTagMutability", "ecr:PutImageScanningConfiguration"),
        needs_login=False, writes=True,
    ),
)

CAPABILITY_BY_NAME: dict[str, Capability] = {c.name: c for c in CAPABILITIES}

#: the four-valued level of a capability for one principal on one repository
CAPABILITY_LEVELS = ("full", "conditional", "partial", "none")
