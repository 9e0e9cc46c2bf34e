"""The predictions page (``motive/report/pages.py``, ``motive predict --report``): one table per query
with expected precision and evidence, a warning outside the applicability domain, rendered by a
real headless browser."""

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from motive.cli import main
from motive.data import layout, synth
from motive.training.config import TrainConfig
from motive.training.loop import run

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    root = tmp_path_factory.mktemp("page")
    graphs = synth.generate(synth.SynthConfig(scale=0.05, seed=4, signal=1.0))
    layout.write_dataset(graphs, root / "data")
    run(TrainConfig(data=str(root / "data"), split="cold_source", model="knn", hits_k=5), root / "run")
    sources = graphs["st_expanded"].sources
    rng = np.random.default_rng(0)
    x = np.vstack([sources.x[0], rng.normal(size=sources.x.shape[1]) * 50])  # a known-like and a strange profile
    index = pd.Index(["LIKEATRAINED00", "NOTHINGLIKEIT0"], name="Metadata_InChIKey")
    pd.DataFrame(x, columns=[f"X_{i}" for i in range(1, x.shape[1] + 1)], index=index).to_parquet(root / "new.parquet")
    argv = ["-q", "predict", "--run", str(root / "run"), "--compounds", str(root / "new.parquet"), "--top-k", "10"]
    assert main([*argv, "--out", str(root / "ranked.parquet"), "--report", str(root / "report")]) == 0
    return root


def test_the_page_has_a_table_per_query_and_warns_outside_the_domain(page):
    text = (page / "report" / "index.html").read_text()
    assert text.count("<table>") == 2 and "LIKEATRAINED00" in text and "NOTHINGLIKEIT0" in text
    strange = text.split("<h2>NOTHINGLIKEIT0</h2>")[1]
    assert strange.startswith('\n<div class="warn">Outside the applicability domain')
    assert "Outside the applicability domain" not in text.split("<h2>LIKEATRAINED00</h2>")[1].split("<h2>")[0]
    ranked = pd.read_parquet(page / "ranked.parquet")
    top = ranked[ranked["query"] == "LIKEATRAINED00"].iloc[0]
    assert f"{top['expected_precision']:.1%}" in text and top["evidence"].split(" (")[0] in text


@pytest.mark.skipif(BROWSER is None, reason="no headless Chromium here (Debian: apt-get install chromium)")
def test_a_headless_browser_renders_the_page(page, tmp_path):
    from matplotlib.image import imread

    shot = tmp_path / "page.png"
    command = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}", "--window-size=1280,900"]
    subprocess.run([*command, (page / "report" / "index.html").as_uri()], capture_output=True, timeout=120, check=False)
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (900, 1280)
    dark = (pixels.mean(axis=2) < 0.5).mean()  # text and table borders, on a white page
    assert 0.005 < dark < 0.5
    assert len(np.unique(pixels.reshape(-1, 3).round(2), axis=0)) > 10  # more than a blank page
    dom = subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            (page / "report" / "index.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    assert dom.count("<table>") == 2 and dom.count("<tr") == 2 * (10 + 1) and "NOTHINGLIKEIT0" in dom  # as rendered


@pytest.mark.skipif(BROWSER is None, reason="no headless Chromium here (Debian: apt-get install chromium)")
def test_predictions_to_html_from_python_renders_in_the_browser(page, tmp_path):
    import motive

    predictions = motive.predict(page / "run", compounds=page / "new.parquet", top_k=4)
    (tmp_path / "page.html").write_text(predictions.to_html("from python"))
    command = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", (tmp_path / "page.html").as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False).stdout
    assert "motive predictions: from python" in dom and dom.count("<table>") == 2 and dom.count("<tr") == 2 * (4 + 1)
    assert 'class="warn">Outside the applicability domain' in dom  # the strange profile's warning, as rendered
