"""ONNX export: ONNX Runtime gives PyTorch's features (atol 1e-4)."""
import copy

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmreid_unsup.apis import (ReIDExportModel, check_onnx, export_onnx,
                               init_model, random_images)
from tiny_cluster_contrast import TINY_CONFIG

ort = pytest.importorskip('onnxruntime')


@pytest.fixture(scope='module')
def tiny_model():
    torch.manual_seed(0)
    return init_model(Config.fromfile(str(TINY_CONFIG)))


def test_export_model_is_the_models_forward(tiny_model):
    images = random_images(3, (32, 16))
    bgr = images.flip(1)  # the preprocessor expects cv2's BGR order
    data = tiny_model.data_preprocessor(dict(inputs=list(bgr)), False)
    expected = tiny_model(data['inputs'], mode='tensor')
    got = ReIDExportModel(tiny_model)(images)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


@pytest.fixture(scope='module')
def exported(tiny_model, tmp_path_factory):
    folder = tmp_path_factory.mktemp('onnx')
    return export_onnx(tiny_model, str(folder / 'm.onnx'), (32, 16))


def test_onnx_runtime_matches_pytorch(tiny_model, exported):
    out = exported
    # Another batch size than the export's: the batch axis is dynamic.
    max_diff = check_onnx(tiny_model, out, random_images(5, (32, 16), 1))
    assert max_diff <= 1e-4
    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    (feats, ) = session.run(None, {'images': random_images(1, (32, 16))
                                   .numpy()})
    assert feats.shape == (1, 128)
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1, atol=1e-5)


def test_check_detects_a_different_model(tiny_model, exported):
    other = copy.deepcopy(tiny_model)
    with torch.no_grad():
        weight = next(other.backbone.parameters())  # the first conv's
        gen = torch.Generator().manual_seed(0)
        weight.add_(torch.randn(weight.shape, generator=gen))
    with pytest.raises(AssertionError, match='differ from PyTorch'):
        check_onnx(other, exported, random_images(2, (32, 16)))
