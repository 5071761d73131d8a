"""What-if: an account with changes applied before they are deployed, evaluated incrementally.

:mod:`.changes` models the changes (attach or detach a policy, put or delete an inline policy, set a
boundary, add a user to a group, set or delete a repository policy), checks them as AWS would and
applies them to a copy-on-write copy of a snapshot; :mod:`.incremental` re-evaluates only the
principals and repositories they can affect. ``Audit.with_changes(...)`` composes both and returns
the changed account's audit; ``ecr-audit whatif`` prints its diff with the account as it is.
"""

from ecr_audit.whatif.changes import (AddToGroup, Applied, AttachPolicy, Change, ChangeError, DeleteInlinePolicy,
                                      DeleteRepositoryPolicy, DetachPolicy, PolicyDocument, PutInlinePolicy,
                                      SetBoundary, SetRepositoryPolicy, apply_changes)
from ecr_audit.whatif.incremental import recompute

__all__ = ["AddToGroup", "Applied", "AttachPolicy", "Change", "ChangeError", "DeleteInlinePolicy",
           "DeleteRepositoryPolicy", "DetachPolicy", "PolicyDocument", "PutInlinePolicy", "SetBoundary",
           "SetRepositoryPolicy", "apply_changes", "recompute"]
