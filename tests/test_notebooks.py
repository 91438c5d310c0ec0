"""The notebooks run top to bottom as notebooks (a Jupyter kernel executes their cells), shortened."""

import os
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.py"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch, tmp_path):
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("QNET_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "agg")
    monkeypatch.delenv("QNET_REFERENCE_RUNS", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    notebook = jupytext.read(path)
    nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert sorted(os.listdir(tmp_path)) == []  # the notebook removed what it wrote
