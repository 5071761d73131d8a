"""The report kernel's process: ``python -m ecr_audit.report.kernel_launcher -f CONNECTION_FILE``.

ipykernel's own launcher, plus the imports every report notebook makes (pandas, the pipeline, the
report's sections) done before the kernel answers: the report starts its kernel before it reads its
inputs (:func:`ecr_audit.report.kernel.started_kernel`), so these imports run while the command
reads the snapshot, instead of after it, in the notebook's first cell.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    # as ipykernel_launcher does: the working folder leaves the path while the kernel loads (the
    # kernel puts it back), so that a file there cannot stand in for a module imported here
    if sys.path[0] == "" or Path(sys.path[0]) == Path.cwd():
        del sys.path[0]

    import ecr_audit.audit  # noqa: F401
    import ecr_audit.report.sections  # noqa: F401
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()
