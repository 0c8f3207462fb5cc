import os

import pytest

os.environ.setdefault("DLAB_OFFLINE", "1")  # tests never reach the network
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def run_lab_in(tmp_path):
    """Run a lab into a temporary runs folder and return its record (metrics.json)."""
    from rich.console import Console

    from dlab.lab.runner import run_lab

    def _run(lab_id: str, quick: bool = True, **kwargs):
        console = Console(file=open(os.devnull, "w"), width=120)
        return run_lab(lab_id, quick=quick, out=tmp_path, console=console, device="cpu",
                       **kwargs)

    return _run


@pytest.fixture
def shared_data():
    """The local data folder (``$DLAB_DATA``, set by `make test` / CI); skip if absent."""
    root = os.environ.get("DLAB_DATA")
    if not root or not os.path.isdir(root):
        pytest.skip("DLAB_DATA is not set to the shared data folder")
    return root


@pytest.fixture
def lab_figures(tmp_path):
    """Names of the figure files the runs in ``tmp_path`` wrote for ``lab`` (``run_lab_in``)."""
    def _names(lab: str, ext: str = "png") -> set[str]:
        return {p.name for p in tmp_path.glob(f"{lab}/*/figures/*.{ext}")}

    return _names


@pytest.fixture
def execute_notebook():
    """Execute a notebook file with nbclient in its own folder; returns the executed notebook.
    Raises nbclient's CellExecutionError (with the failing cell's output) if a cell fails."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")

    def _execute(path, timeout: int = 600):
        notebook = nbformat.read(str(path), as_version=4)
        client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                         resources={"metadata": {"path": str(path.parent)}})
        client.execute()
        return notebook

    return _execute
