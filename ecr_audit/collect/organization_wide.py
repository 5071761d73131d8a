"""Every account of an organisation: one snapshot per account and an index of the run.

Run from the management account (or an Organizations delegated administrator). The accounts come
from ``organizations:ListAccounts``; each one is read through ``sts:AssumeRole`` into the same role
name in every account, except the caller's own account, which is read with the caller's
credentials (the management account has no OrganizationAccountAccessRole, and assuming
a role in one's own account would gain nothing).

The SCPs and RCPs above each account are read from the caller's side, which can see every
member's path, while the member role usually may not call Organizations at all; the reads the
paths share (root, OUs, policy documents) are made once for the whole run. An account that cannot
be assumed or collected is recorded in the index with its error and the others go on: one
forgotten role must not cost the audit of five hundred accounts. Each snapshot is written as soon
as its account is done, so an interrupted run keeps what it has.

``sts:AssumeRole`` is the one operation sent that is not a ``Get``/``List``/``Describe``/
``BatchGet``: it changes nothing in any account, it only returns short-lived credentials
(``tests/test_collect_org_moto.py::test_org_collection_sends_only_reads_and_assume_role``
proves that nothing else is sent).
"""

from __future__ import annotations

import datetime as _dt
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable, Iterable

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import CredentialProvider, RefreshableCredentials, create_assume_role_refresher

from ecr_audit._version import __version__
from ecr_audit.collect import organizations
from ecr_audit.collect.account import OrganizationReader, home_region, regions_asked, collect_account
from ecr_audit.collect.coverage import CALL_ERRORS, Coverage, error_code_and_message
from ecr_audit.collect.identity import collect_caller_identity, partition_of
from ecr_audit.collect.responses import DEFAULT_LIMITS, CallLimits, guard_session, listed
from ecr_audit.collect.session import CollectionError, client_config
from ecr_audit.snapshot import COLLECTED, FAILED, INDEX_KIND, INDEX_SCHEMA_VERSION, write_index, write_snapshot

#: progress(done, total, label): called in the calling thread once at the start (done 0), then as
#: each account finishes
Progress = Callable[[int, int, str], None]

DEFAULT_MAX_WORKERS = 4
#: what the account's CloudTrail shows as the session that read it
ROLE_SESSION_NAME = "ecr-audit"
#: ListAccounts ``State`` (``Status`` until AWS retires it) of the accounts that are collected
COLLECTED_STATE = "ACTIVE"
#: failed_step values: where an account's collection stopped
STEP_ASSUME_ROLE, STEP_COLLECT, STEP_WRITE = "assume_role", "collect", "write"
INTERRUPTED = "Interrupted"


# --- boto3 edge -------------------------------------------------------------------------------

def get_accounts(org_client: Any, limits: CallLimits = DEFAULT_LIMITS) -> list[dict[str, Any]]:
    return listed(org_client, "list_accounts", "ListAccounts", "Accounts", limits)


class _AssumedRoleCredentials(CredentialProvider):
    """Puts credentials that are already in hand first in a session's credential chain."""

    METHOD = CANONICAL_NAME = "ecr-audit-assume-role"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials


def profile_of(session: boto3.Session) -> str | None:
    """The session's profile if it names one that exists (boto3 says "default" even when none does)."""
    return session.profile_name if session.profile_name in session.available_profiles else None


def assume_role_session(caller_sts: Any, role_arn: str, *, region: str, profile: str | None = None) -> boto3.Session:
    """A session in the role's account; raises the AssumeRole ``ClientError`` at once if denied.

    ``caller_sts``: an STS client of the caller's (clients may be shared between threads, the
    caller's session may not). The credentials renew themselves by assuming the role again before
    they expire: a large account can take longer to read than the one hour that chained role
    sessions are limited to. ``profile``: the caller's, so that its endpoint and CA bundle
    settings still apply.
    """
    refresh = create_assume_role_refresher(caller_sts, {"RoleArn": role_arn, "RoleSessionName": ROLE_SESSION_NAME})
    credentials = RefreshableCredentials.create_from_metadata(
        metadata=refresh(), refresh_using=refresh, method=_AssumedRoleCredentials.METHOD)
    botocore_session = botocore.session.Session(profile=profile)
    botocore_session.get_component("credential_provider").insert_before(
        "env", _AssumedRoleCredentials(credentials))
    return boto3.Session(botocore_session=botocore_session, region_name=region)


# --- pure reshaping ---------------------------------------------------------------------------

def transform_account(account: dict[str, Any]) -> dict[str, Any]:
    """A ListAccounts item as the index lists it; ``State`` replaces ``Status`` (retired 2026-09)."""
    return {"id": account.get("Id"), "name": account.get("Name"), "email": account.get("Email"),
            "status": account.get("State") or account.get("Status")}


def parse_account_ids(text: str | None) -> list[str] | None:
    """``--accounts id1,id2``: ``None`` for every account; raises ``ValueError`` naming a bad id."""
    if text is None:
        return None
    ids: list[str] = []
    for account_id in (part.strip() for part in text.split(",")):
        if not account_id:
            continue
        if len(account_id) != 12 or not account_id.isdigit():
            raise ValueError(f"{account_id!r} is not an AWS account id (12 digits)")
        if account_id not in ids:
            ids.append(account_id)
    if not ids:
        raise ValueError("--accounts names no account")
    return ids


def select_accounts(accounts: Iterable[dict[str, Any]], wanted: list[str] | None
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(accounts to collect, accounts skipped with the reason), both sorted by id.

    Raises ``ValueError`` for a wanted id that is not an active account of the organisation: a
    typo must not become an audit that silently covers one account less.
    """
    listed = {account["id"]: account for account in accounts}
    if wanted is not None:
        unknown = [account_id for account_id in wanted if account_id not in listed]
        if unknown:
            raise ValueError(f"not in the organisation: {', '.join(unknown)}")
        inactive = [f"{i} ({listed[i]['status']})" for i in wanted if listed[i]["status"] != COLLECTED_STATE]
        if inactive:
            raise ValueError(f"not {COLLECTED_STATE}, cannot be collected: {', '.join(inactive)}")
    selected, skipped = [], []
    for account_id in sorted(listed):
        account = listed[account_id]
        if account["status"] != COLLECTED_STATE:
            skipped.append({**account, "reason": f"account is {account['status']}"})
        elif wanted is not None and account_id not in wanted:
            skipped.append({**account, "reason": "not selected by --accounts"})
        else:
            selected.append(account)
    return selected, skipped


def role_arn(partition: str, account_id: str, role_name: str) -> str:
    return f"arn:{partition}:iam::{account_id}:role/{role_name}"


def snapshot_file_name(account_id: str) -> str:
    return f"{account_id}.json.gz"


def ou_path(organization: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """Root and OUs above the account, root first; ``None`` when the path could not be read."""
    levels = (organization or {}).get("levels")
    if not levels:
        return None
    return [{"id": level["id"], "name": level.get("name")} for level in levels if level.get("type") != "ACCOUNT"]


def index_entry(account: dict[str, Any], organization: dict[str, Any] | None, *, credentials: str | None,
                outcome: str, snapshot: str | None = None, coverage_gaps: int | None = None,
                failed_step: str | None = None, error_code: str | None = None,
                error_message: str | None = None) -> dict[str, Any]:
    return {**account, "ou_path": ou_path(organization), "role_arn": credentials, "outcome": outcome,
            "snapshot": snapshot, "coverage_gaps": coverage_gaps, "failed_step": failed_step,
            "error_code": error_code, "error_message": error_message}


def build_index(*, organization: dict[str, Any], caller: dict[str, Any], role_name: str,
                regions: Any, collected_at: str, entries: list[dict[str, Any]],
                skipped: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schema_version": INDEX_SCHEMA_VERSION,
        "kind": INDEX_KIND,
        "tool": {"name": "ecr-audit", "version": __version__},
        "collected_at": collected_at,
        "organization": {"id": organization.get("Id"),
                         "management_account_id": organization.get("MasterAccountId"),
                         "feature_set": organization.get("FeatureSet")},
        "caller": caller,
        "role_name": role_name,
        "regions": regions,
        "accounts": sorted(entries, key=lambda entry: entry["id"]),
        "skipped": skipped,
    }


def _gaps(count: int | None) -> str:
    return "1 coverage gap" if count == 1 else f"{count or 0} coverage gaps"


def summarize_index(index: dict[str, Any]) -> list[str]:
    """A headline, then one line per account: failures first and marked, so that they are seen."""
    accounts = index["accounts"]
    failed = [a for a in accounts if a["outcome"] == FAILED]
    gaps = sum(a["coverage_gaps"] or 0 for a in accounts)
    organization = index["organization"]
    lines = [f"Organization {organization['id']} (management account {organization['management_account_id']}): "
             f"{len(accounts) - len(failed)} of {len(accounts)} accounts collected, {len(failed)} failed, "
             f"{len(index['skipped'])} skipped; {_gaps(gaps)} in the collected snapshots."]
    for account in failed:
        lines.append(f"FAILED {account['id']} ({account['name']}) at {account['failed_step']}: "
                     f"{account['error_code']}: {account['error_message']}")
    for account in accounts:
        if account["outcome"] == COLLECTED:
            lines.append(f"collected {account['id']} ({account['name']}): "
                         f"{_gaps(account['coverage_gaps'])}, {account['snapshot']}")
    for account in index["skipped"]:
        lines.append(f"skipped {account['id']} ({account['name']}): {account['reason']}")
    return lines


# --- the run ----------------------------------------------------------------------------------

class _Interrupted(Exception):
    """Raised in an account's thread, between two of its sources, once the run was interrupted."""


def _stop_when(stop: threading.Event) -> Callable[[int, int, str], None]:
    def check(done: int, total: int, label: str) -> None:
        if stop.is_set():
            raise _Interrupted()

    return check


def _replaying(organization: dict[str, Any] | None, gaps: list[dict[str, Any]]) -> OrganizationReader:
    """The organisation as already read from the management side, its gaps recorded again."""
    def read(account_id: str, coverage: Coverage) -> dict[str, Any] | None:
        for gap in gaps:
            coverage.record(**gap)
        return organization

    return read


class _Run:
    """What every account's collection shares: the caller's side, the settings, the output folder.

    The caller's clients are made before the accounts' threads start and shared by them; the
    caller's session itself is used by one thread only, the one reading the caller's own account.
    """

    def __init__(self, *, caller_session: boto3.Session, caller_account: str, partition: str, home: str,
                 org_client: Any, sts_client: Any, shared: organizations.SharedReads, role_name: str,
                 regions: Any, config: Config, output_dir: Path, stop: threading.Event,
                 limits: CallLimits = DEFAULT_LIMITS) -> None:
        self.caller_session, self.caller_account, self.partition, self.home = (
            caller_session, caller_account, partition, home)
        self.org_client, self.sts_client, self.shared = org_client, sts_client, shared
        self.profile = profile_of(caller_session)
        self.role_name, self.regions = role_name, regions
        self.config, self.output_dir, self.stop, self.limits = config, output_dir, stop, limits

    def role_arn(self, account_id: str) -> str | None:
        """The role assumed to read the account; ``None``: the caller's own credentials."""
        return None if account_id == self.caller_account else role_arn(self.partition, account_id, self.role_name)

    def collect(self, account: dict[str, Any]) -> dict[str, Any]:
        """The account's index entry; never raises, a failure is the entry's outcome."""
        try:
            return self._collect(account)
        except Exception as error:  # noqa: BLE001 - a bug met in one account must not lose the others
            return index_entry(account, None, credentials=self.role_arn(account["id"]), outcome=FAILED,
                               failed_step=STEP_COLLECT, error_code=type(error).__name__,
                               error_message=f"ecr-audit failed while collecting: {error!r}")

    def _collect(self, account: dict[str, Any]) -> dict[str, Any]:
        account_id = account["id"]
        coverage = Coverage(self.limits)
        organization = organizations.collect_organization(self.org_client, account_id, coverage, self.shared)
        organization_gaps = coverage.gaps
        arn = self.role_arn(account_id)

        def failed(step: str, code: str, message: str) -> dict[str, Any]:
            return index_entry(account, organization, credentials=arn, outcome=FAILED, failed_step=step,
                               error_code=code, error_message=message)

        if self.stop.is_set():
            return failed(STEP_COLLECT, INTERRUPTED, "the run was interrupted before this account started")
        if arn is None:
            session = self.caller_session
        else:
            try:
                session = assume_role_session(self.sts_client, arn, region=self.home, profile=self.profile)
            except CALL_ERRORS as error:
                code, message = error_code_and_message(error)
                return failed(STEP_ASSUME_ROLE, code, f"sts:AssumeRole into {arn} failed: {message}")
        try:
            snapshot = collect_account(session, regions=self.regions, config=self.config, limits=self.limits,
                                       progress=_stop_when(self.stop),
                                       organization_reader=_replaying(organization, organization_gaps))
        except _Interrupted:
            return failed(STEP_COLLECT, INTERRUPTED, "the run was interrupted while this account was collected")
        except CollectionError as error:
            return failed(STEP_COLLECT, "CollectionError", str(error))
        file_name = snapshot_file_name(account_id)
        try:
            write_snapshot(snapshot, self.output_dir / file_name)
        except OSError as error:
            return failed(STEP_WRITE, type(error).__name__,
                          f"cannot write {self.output_dir / file_name}: {error.strerror or error}")
        return index_entry(account, organization, credentials=arn, outcome=COLLECTED, snapshot=file_name,
                           coverage_gaps=len(snapshot["coverage"]))


def _fatal(what: str, error: BaseException, hint: str) -> CollectionError:
    code, message = error_code_and_message(error)
    return CollectionError(f"{what} failed with {code}: {message}; {hint}")


def collect_organization_wide(
    session: boto3.Session,
    role_name: str,
    output_dir: str | Path,
    *,
    regions: str | list[str] | None = None,
    accounts: list[str] | None = None,
    max_workers: int = DEFAULT_MAX_WORKERS,
    config: Config | None = None,
    progress: Progress | None = None,
    limits: CallLimits = DEFAULT_LIMITS,
) -> tuple[dict[str, Any], Path]:
    """Collect the organisation's active accounts into ``output_dir``; return (index, index path).

    Raises :class:`CollectionError` when the run cannot start (caller unidentifiable, not in an
    organisation, accounts not listable) and ``ValueError`` for ``accounts`` that are not active
    accounts of the organisation; nothing is written then. A Ctrl-C stops the accounts in flight
    at their next source, writes the index of what was done, and is raised again.
    """
    if max_workers < 1:
        raise ValueError(f"max workers must be at least 1, not {max_workers}")
    config = config or client_config()
    guard_session(session)
    home = home_region(session, regions_asked(regions))
    sts_client = session.client("sts", region_name=home, config=config)
    caller = collect_caller_identity(sts_client)
    org_client = session.client("organizations", region_name=home, config=config)
    try:
        organization = organizations.get_organization(org_client)
    except CALL_ERRORS as error:
        raise _fatal("organizations:DescribeOrganization", error,
                     f"account {caller['Account']} must be in an organisation for --org-role") from None
    try:
        accounts_listed = get_accounts(org_client, limits)
    except CALL_ERRORS as error:
        raise _fatal("organizations:ListAccounts", error,
                     "run from the management account or an Organizations delegated administrator") from None
    if not any(account.get("Id") == caller["Account"] for account in accounts_listed):
        # AWS lists every account, the caller's included: a listing without it is not the organisation
        raise CollectionError(
            f"organizations:ListAccounts listed {len(accounts_listed)} accounts, not including the caller's own "
            f"account {caller['Account']}; run from the management account or an Organizations delegated "
            "administrator")
    selected, skipped = select_accounts([transform_account(a) for a in accounts_listed], accounts)

    shared = organizations.SharedReads()
    shared.remember("DescribeOrganization", None, organization)
    for account in accounts_listed:  # ListAccounts already said what DescribeAccount would, name included
        shared.remember("DescribeAccount", account.get("Id"), account)
    run = _Run(caller_session=session, caller_account=caller["Account"], partition=partition_of(caller["Arn"]),
               home=home, org_client=org_client, sts_client=sts_client, shared=shared, role_name=role_name,
               regions=regions, config=config, output_dir=Path(output_dir), stop=threading.Event(),
               limits=limits)
    collected_at = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")

    def index_of(entries: list[dict[str, Any]]) -> dict[str, Any]:
        return build_index(organization=organization, caller=caller, role_name=role_name,
                           regions=regions_asked(regions), collected_at=collected_at, entries=entries,
                           skipped=skipped)

    run.output_dir.mkdir(parents=True, exist_ok=True)
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="ecr-audit-account")
    running = {pool.submit(run.collect, account): account for account in selected}
    entries: list[dict[str, Any]] = []
    try:
        if progress is not None:  # a bar from the start: the first account can take minutes
            progress(0, len(running), f"{len(running)} accounts, {max_workers} at a time")
        for done, future in enumerate(as_completed(running), start=1):
            entries.append(future.result())
            if progress is not None:
                progress(done, len(running), f"{entries[-1]['id']} {entries[-1]['outcome']}")
    except KeyboardInterrupt:
        run.stop.set()
        pool.shutdown(wait=True, cancel_futures=True)  # the accounts in flight stop at their next source
        finished = {entry["id"] for entry in entries}
        for future, account in running.items():
            if account["id"] in finished:
                continue
            if future.done() and not future.cancelled():
                entries.append(future.result())
            else:
                entries.append(index_entry(
                    account, None, credentials=run.role_arn(account["id"]), outcome=FAILED,
                    failed_step=STEP_COLLECT, error_code=INTERRUPTED,
                    error_message="the run was interrupted before this account started"))
        write_index(index_of(entries), run.output_dir)
        raise
    pool.shutdown()
    index = index_of(entries)
    return index, write_index(index, run.output_dir)
