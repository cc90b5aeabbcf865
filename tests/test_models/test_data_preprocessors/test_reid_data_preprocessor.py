import torch

from mmreid_unsup.registry import MODELS
from mmreid_unsup.structures import ReIDDataSample


def test_bgr_to_rgb_normalise_and_stack():
    preprocessor = MODELS.build(dict(type='ReIDDataPreprocessor'))
    # One pixel per image, BGR order: B=10, G=20, R=200.
    bgr = torch.tensor([10, 20, 200], dtype=torch.uint8).view(3, 1, 1)
    samples = [ReIDDataSample(metainfo=dict(sample_idx=i)) for i in range(2)]
    out = preprocessor(dict(inputs=[bgr, bgr.clone()], data_samples=samples))
    inputs = out['inputs']
    assert inputs.shape == (2, 3, 1, 1)
    assert inputs.dtype == torch.float32
    expected = torch.tensor([(200 - 123.675) / 58.395, (20 - 116.28) / 57.12,
                             (10 - 103.53) / 57.375])
    torch.testing.assert_close(inputs[0].flatten(), expected)
    torch.testing.assert_close(inputs[1], inputs[0])
    # Data samples pass through (moved to the model's device).
    assert [s.sample_idx for s in out['data_samples']] == [0, 1]


def test_mean_std_can_be_overridden():
    preprocessor = MODELS.build(
        dict(
            type='ReIDDataPreprocessor',
            mean=[0, 0, 0],
            std=[255, 255, 255],
            bgr_to_rgb=False))
    img = torch.tensor([0, 51, 255], dtype=torch.uint8).view(3, 1, 1)
    out = preprocessor(dict(inputs=[img]))['inputs']
    torch.testing.assert_close(out.flatten(), torch.tensor([0.0, 0.2, 1.0]))


def test_multi_view_batches_are_flattened_view_by_view():
    preprocessor = MODELS.build(dict(type='ReIDDataPreprocessor'))
    imgs = [torch.full((3, 2, 1), v, dtype=torch.uint8) for v in range(4)]
    samples = [
        ReIDDataSample(metainfo=dict(sample_idx=i % 2, view=i // 2))
        for i in range(4)
    ]
    # pseudo_collate's layout: one tuple per view.
    out = preprocessor(
        dict(
            inputs=[tuple(imgs[:2]), tuple(imgs[2:])],
            data_samples=[tuple(samples[:2]),
                          tuple(samples[2:])]))
    assert out['inputs'].shape == (4, 3, 2, 1)
    single = preprocessor(dict(inputs=imgs))['inputs']
    torch.testing.assert_close(out['inputs'], single)
    assert [(s.sample_idx, s.view) for s in out['data_samples']] == [
        (0, 0), (1, 0), (0, 1), (1, 1)
    ]


def test_channels_last_batches_hold_the_same_values():
    images = [torch.randint(0, 256, (3, 8, 4), dtype=torch.uint8)
              for _ in range(3)]
    samples = [ReIDDataSample(metainfo=dict(sample_idx=i)) for i in range(3)]
    plain = MODELS.build(dict(type='ReIDDataPreprocessor'))(
        dict(inputs=images, data_samples=samples))['inputs']
    nhwc = MODELS.build(dict(type='ReIDDataPreprocessor', channels_last=True))(
        dict(inputs=images, data_samples=samples), True)['inputs']
    assert plain.is_contiguous()
    assert nhwc.is_contiguous(memory_format=torch.channels_last)
    assert not nhwc.is_contiguous()
    torch.testing.assert_close(nhwc, plain, rtol=0, atol=0)
