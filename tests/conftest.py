import os

import pytest

os.environ.setdefault("DLAB_OFFLINE", "1")  # tests never reach the network
os.environ.setdefault("MPLBACKEND", "Agg")
# The same numbers on every CPU: precision auto would pick bf16 on CPUs with native bf16.
# Tests of the precision choice pass it explicitly.
os.environ.setdefault("DLAB_PRECISION", "fp32")


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`make test` runs ``-n auto --dist loadgroup``) every test of one lab
    runs on the same worker, so the lab's shared quick run (``quick_runs``) is made once."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        params = getattr(item, "callspec", None)
        lab_id = params.params.get("lab_id") if params else None
        if lab_id is None and item.path.parent.name == "labs":
            lab_id = item.path.stem.removeprefix("test_").replace("_", "-")
        if lab_id:
            item.add_marker(pytest.mark.xdist_group(lab_id))


def _run_lab(lab_id: str, out, quick: bool, **kwargs) -> dict:
    from rich.console import Console

    from dlab.lab.runner import run_lab

    console = Console(file=open(os.devnull, "w"), width=120)
    return run_lab(lab_id, quick=quick, out=out, console=console, device="cpu", **kwargs)


@pytest.fixture(scope="session")
def quick_runs(tmp_path_factory):
    """Each lab's default quick run (seed 0), made once per test session: the lab tests and
    the notebook tests both read it. Treat the records as read-only."""
    out = tmp_path_factory.mktemp("quick-runs")
    cache: dict[str, dict] = {}

    def _get(lab_id: str) -> dict:
        if lab_id not in cache:
            cache[lab_id] = _run_lab(lab_id, out, quick=True)
        return cache[lab_id]

    _get.out = out
    return _get


@pytest.fixture
def run_lab_in(tmp_path, quick_runs):
    """Run a lab into a temporary runs folder and return its record (metrics.json). The
    default quick run (no other argument) is shared by the whole session."""
    def _run(lab_id: str, quick: bool = True, **kwargs):
        if quick and not kwargs:
            return quick_runs(lab_id)
        return _run_lab(lab_id, tmp_path, quick, **kwargs)

    return _run


@pytest.fixture
def shared_data():
    """The local data folder (``$DLAB_DATA``, set by `make test` / CI); skip if absent."""
    root = os.environ.get("DLAB_DATA")
    if not root or not os.path.isdir(root):
        pytest.skip("DLAB_DATA is not set to the shared data folder")
    return root


@pytest.fixture
def lab_figures(tmp_path, quick_runs):
    """Names of the figure files the runs of ``lab`` made by ``run_lab_in`` wrote."""
    def _names(lab: str, ext: str = "png") -> set[str]:
        return {p.name for root in (tmp_path, quick_runs.out)
                for p in root.glob(f"{lab}/*/figures/*.{ext}")}

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
