"""The kernel that executes report notebooks: always this interpreter, whatever kernelspecs exist.

A kernelspec is looked up by name in the user's Jupyter folders before the environment's, so a
``python3`` spec left in ``~/.local/share/jupyter`` by another installation would run the report
with an interpreter that lacks ecr-audit (or has another version of it). The report therefore
never looks one up: its kernel manager is given a spec built from ``sys.executable``, which works
in a fresh ``.venv`` run without activation and needs no ``ipykernel install`` step.

A report starts its kernel first (:func:`started_kernel`), before it reads its inputs: the kernel's
process starts and imports what the notebook needs (:mod:`ecr_audit.report.kernel_launcher`) on
another core while this process reads and checks the snapshot. This module imports no more than
jupyter_client, so that the kernel starts before this process imports pandas and nbconvert.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from typing import Any, Iterator

from jupyter_client import AsyncKernelManager
from jupyter_client.localinterfaces import localhost
from jupyter_core.paths import jupyter_runtime_dir
from jupyter_core.utils import run_sync
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
from traitlets import default

KERNEL_NAME = "ecr-audit-python"


def current_interpreter_spec() -> KernelSpec:
    return KernelSpec(
        argv=[sys.executable, "-m", "ecr_audit.report.kernel_launcher", "-f", "{connection_file}"],
        display_name=f"Python {sys.version_info.major}.{sys.version_info.minor} (ecr-audit)",
        language="python",
        metadata={"debugger": False},
    )


class CurrentInterpreterSpecs(KernelSpecManager):
    """Knows one kernel, :data:`KERNEL_NAME`, started with the running interpreter."""

    def find_kernel_specs(self) -> dict[str, str]:
        return {KERNEL_NAME: sys.prefix}

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name != KERNEL_NAME:
            raise NoSuchKernel(kernel_name)
        return current_interpreter_spec()

    def get_all_specs(self) -> dict[str, dict]:
        return {KERNEL_NAME: {"resource_dir": sys.prefix, "spec": current_interpreter_spec().to_dict()}}


class CurrentInterpreterKernelManager(AsyncKernelManager):
    """nbclient's kernel manager, resolving kernel names with :class:`CurrentInterpreterSpecs` only.

    It talks to the kernel over Unix sockets in Jupyter's runtime folder rather than TCP ports on
    127.0.0.1: nothing listens on the network while a report runs (the kernel would otherwise
    warn that its TCP traffic is unencrypted), and the socket files go when the kernel stops.
    """

    @default("kernel_spec_manager")
    def _current_interpreter_specs(self) -> KernelSpecManager:
        return CurrentInterpreterSpecs(parent=self)

    @default("transport")
    def _unix_socket_transport(self) -> str:
        return "ipc"

    @default("ip")
    def _private_socket_prefix(self) -> str:
        """A prefix of its own for the kernel's socket files: Jupyter's default (``kernel-ipc`` in the
        working folder, numbered from 1) lets kernels started at once from one folder (the
        organisation report's Dask workers) take the same sockets, and a client then talks to
        another kernel ("Invalid Signature")."""
        if self.transport != "ipc":
            return localhost()
        runtime = jupyter_runtime_dir()
        os.makedirs(runtime, exist_ok=True)
        return os.path.join(runtime, f"ecr-audit-{uuid.uuid4().hex[:12]}-ipc")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: the clients made for this kernel (nbclient makes one), closed by :meth:`stop`
        self.clients: list[Any] = []
        self._stop_requested = False

    def client(self, **kwargs: Any) -> Any:
        made = super().client(**kwargs)
        self.clients.append(made)
        return made

    def request_stop(self) -> None:
        """Ask the kernel to exit, and return at once: it frees its memory while this process works on."""
        if self.has_kernel and not self._stop_requested:
            self._stop_requested = True
            with contextlib.suppress(Exception):  # already gone: stop() cleans up what is left
                run_sync(self.request_shutdown)()

    def stop(self) -> None:
        """Close the clients, wait for the kernel to exit (ending it when it does not), remove its files."""
        for made in self.clients:
            made.stop_channels()
        self.clients.clear()
        try:
            self.request_stop()
            if self.has_kernel:
                run_sync(self.finish_shutdown)()
        finally:
            run_sync(self.cleanup_resources)()


@contextlib.contextmanager
def started_kernel() -> Iterator[CurrentInterpreterKernelManager]:
    """A report kernel, started now (its process keeps starting after this returns) and stopped on
    leaving the block. Give it to :func:`ecr_audit.report.runner.execute_notebook` as ``kernel``."""
    manager = CurrentInterpreterKernelManager(kernel_name=KERNEL_NAME)
    run_sync(manager.start_kernel)()
    try:
        yield manager
    finally:
        manager.stop()
