"""Every released checkpoint loads into its config; one is re-measured.

Every entry of the repository's index is built from the zoo itself
(resolved offline, sha256-verified, loaded with nothing of the model left
out) and embeds real CUHK03 crops. Re-measuring an entry's numbers costs a
full evaluation (about 35 s on an AVX-512 CPU, 3x that with AVX2), so CI
re-measures one entry end to end with ``tools/model_zoo.py verify`` and a
release re-measures all of them with the same command (``model_zoo/
README.md``).
"""
import pytest
import torch

from mmreid_unsup.apis import extract_features, get_model, list_images
from mmreid_unsup.model_zoo import DEFAULT_INDEX, load_index
from tiny_cluster_contrast import REPO_ROOT, load_script, shared_dir

CUHK03 = shared_dir() / 'data' / 'cuhk03'
MODELS = list(load_index(DEFAULT_INDEX))
RELEASED = [model for model in MODELS
            if any('CUHK03' in r.dataset for r in model.results)]
#: The entry CI re-measures: the camera-centred Cluster-Contrast release,
#: the bar every method is compared with.
REMEASURED = ('cluster-contrast-camera-centred_osnet-x0.25-msmt17-pre_'
              '1xb64-5e_cuhk03-dev')
needs_cuhk03 = pytest.mark.skipif(
    not (CUHK03 / 'full').is_dir(),
    reason=f'the CUHK03 crops are not at {CUHK03} (set MMREID_SHARED_DIR)')


def test_released_entries_are_checked():
    assert RELEASED, f'no CUHK03 result in {DEFAULT_INDEX}'
    assert REMEASURED in [m.name for m in RELEASED]


@needs_cuhk03
@pytest.mark.parametrize('model', MODELS, ids=[m.name for m in MODELS])
def test_every_released_file_loads_into_its_config(model, monkeypatch):
    monkeypatch.setenv('MMREID_OFFLINE', '1')  # a fresh clone, no network
    # get_model loads strictly: a weight the config's model has and the
    # file lacks (or the reverse, or another shape) is an error.
    net = get_model(model.name)
    images = list_images(CUHK03 / 'full')[:4]
    with torch.no_grad():
        feats = extract_features(net, images)
    assert feats.shape[0] == 4 and torch.isfinite(feats).all()
    # A model that collapsed would give four images one embedding.
    assert torch.cdist(feats, feats).max() > 1e-3


@pytest.mark.e2e
@needs_cuhk03
def test_verify_remeasures_a_released_model(monkeypatch, capsys):
    monkeypatch.setenv('MMREID_OFFLINE', '1')
    tool = load_script(REPO_ROOT / 'tools' / 'model_zoo.py', 'model_zoo_tool')
    status = tool.main(['verify', REMEASURED, '--data-root', str(CUHK03)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert f'{REMEASURED}  mAP  ' in out and 'DIFFERS' not in out
