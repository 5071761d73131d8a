"""The AWS managed policy catalogue ships with the package: an audit never needs the demo's emulator."""

from __future__ import annotations

import subprocess
import sys

from ecr_audit.aws_managed_policies import aws_managed_policies

ECR_POLICIES = ("AmazonEC2ContainerRegistryPullOnly", "AmazonEC2ContainerRegistryReadOnly",
                "AmazonEC2ContainerRegistryPowerUser", "AmazonEC2ContainerRegistryFullAccess")


def test_the_catalogue_holds_the_ecr_managed_policies_with_their_documents() -> None:
    catalogue = aws_managed_policies()
    assert len(catalogue) > 1000
    for name in ECR_POLICIES:
        document = catalogue[name]["Document"]
        assert document["Statement"] and catalogue[name]["Path"] == "/"
    pull_only = catalogue["AmazonEC2ContainerRegistryPullOnly"]["Document"]["Statement"]
    assert any("ecr:GetAuthorizationToken" in statement["Action"] for statement in pull_only)


def test_the_catalogue_loads_without_moto_installed() -> None:
    script = ("import sys; sys.modules['moto'] = None\n"
              "from ecr_audit.aws_managed_policies import aws_managed_policies\n"
              "from ecr_audit.findings.rules.unrecognized_policy_element import is_known_aws_managed\n"
              "assert 'AmazonEC2ContainerRegistryPullOnly' in aws_managed_policies()\n"
              "assert is_known_aws_managed('arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly')\n"
              "assert not is_known_aws_managed('arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnlyy')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
