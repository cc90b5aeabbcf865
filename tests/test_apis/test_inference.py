"""init_model and extract_features on the tiny synthetic set."""
import cv2
import pytest
import torch

from mmreid_unsup.apis import extract_features, init_model, list_images
from reid_tiny_model import save_untrained_checkpoint, write_tiny_config
from tiny_cluster_contrast import TINY_R18_CONFIG


@pytest.fixture(scope='module')
def tiny_model_files(tiny_synthetic_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp('tiny_model')
    # ResNet-18, whose 512-d features and key names these tests name.
    config = write_tiny_config(tiny_synthetic_root, folder / 'tiny.py',
                               base=TINY_R18_CONFIG)
    return config, save_untrained_checkpoint(config, folder / 'tiny.pth')


@pytest.fixture(scope='module')
def model(tiny_model_files):
    config, checkpoint = tiny_model_files
    return init_model(str(config), str(checkpoint))


def test_init_model_loads_the_checkpoint(tiny_model_files, model):
    config, checkpoint = tiny_model_files
    state = torch.load(checkpoint, weights_only=True)['state_dict']
    assert not model.training and model.cfg.filename == str(config)
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, state[name], msg=name)
    # Without the checkpoint the weights differ (another random init).
    torch.manual_seed(123)
    fresh = init_model(str(config))
    name = 'backbone.conv1.weight'
    assert not torch.equal(fresh.state_dict()[name], state[name])


def test_init_model_errors(tiny_model_files, tmp_path):
    config, _ = tiny_model_files
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        init_model(str(config), str(tmp_path / 'missing.pth'))
    with pytest.raises(FileNotFoundError, match='config not found'):
        init_model(str(tmp_path / 'missing.py'))


def test_features_of_a_folder_files_and_arrays(model, tiny_synthetic_root):
    folder = tiny_synthetic_root / 'query'
    paths = list_images(folder)
    assert paths == sorted(paths) and all(p.endswith('.jpg') for p in paths)

    feats = extract_features(model, folder, batch_size=4, progress=False)
    assert feats.shape == (len(paths), 512) and feats.dtype == torch.float32
    torch.testing.assert_close(feats.norm(dim=1), torch.ones(len(paths)))
    # Batch size does not matter; files and BGR arrays give the same
    # features as the folder.
    by_file = extract_features(model, paths[:5], batch_size=5, progress=False)
    torch.testing.assert_close(by_file, feats[:5], atol=1e-5, rtol=0)
    arrays = [cv2.imread(p) for p in paths[:2]]
    torch.testing.assert_close(
        extract_features(model, arrays, progress=False), feats[:2],
        atol=1e-5, rtol=0)
    # The same as the evaluation's model forward on the test pipeline.
    single = extract_features(model, paths[0], progress=False)
    torch.testing.assert_close(single, feats[:1], atol=1e-5, rtol=0)


def test_flip_averages_with_the_mirror_image(model, tiny_synthetic_root):
    path = list_images(tiny_synthetic_root / 'query')[0]
    img = cv2.imread(path)
    plain, mirrored = extract_features(
        model, [img, img[:, ::-1].copy()], progress=False)
    flipped = extract_features(model, path, flip=True, progress=False)[0]
    expected = torch.nn.functional.normalize(plain + mirrored, dim=0)
    torch.testing.assert_close(flipped, expected, atol=1e-5, rtol=0)
    assert not torch.allclose(flipped, plain, atol=1e-3)


def test_extract_features_errors(model, tmp_path):
    with pytest.raises(FileNotFoundError, match='no image'):
        extract_features(model, tmp_path, progress=False)
    with pytest.raises(FileNotFoundError, match='image not found'):
        extract_features(model, [str(tmp_path / 'x.jpg')], progress=False)
    with pytest.raises(ValueError, match='batch_size'):
        extract_features(model, [str(tmp_path / 'x.jpg')], batch_size=0)
