"""Export a re-ID model to ONNX and check it against PyTorch."""
import warnings
from typing import Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from mmreid_unsup.utils.writable_output import check_writable_output

__all__ = [
    'ReIDExportModel', 'export_onnx', 'check_onnx', 'random_images',
    'ONNX_ATOL', 'ONNX_INPUT_NAME', 'ONNX_OUTPUT_NAME'
]

#: Largest absolute difference allowed between the ONNX Runtime and the
#: PyTorch features (unit vectors, float32).
ONNX_ATOL = 1e-4
ONNX_INPUT_NAME = 'images'
ONNX_OUTPUT_NAME = 'features'


class ReIDExportModel(nn.Module):
    """The deployable part of a re-ID model: normalisation, backbone, neck
    and L2 normalisation.

    Input: ``(B, 3, H, W)`` float32 **RGB** pixels in ``[0, 255]`` (the
    batch dimension is dynamic in the exported file). Output: ``(B, D)``
    L2-normalised features, the model's ``'tensor'`` mode.

    Args:
        model (nn.Module): a re-ID model with ``data_preprocessor`` and
            ``extract_feat``.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        preprocessor = model.data_preprocessor
        if getattr(preprocessor, '_enable_normalize', False):
            mean, std = preprocessor.mean, preprocessor.std
        else:
            mean, std = torch.zeros(3, 1, 1), torch.ones(3, 1, 1)
        self.register_buffer('mean', mean.detach().clone().float().view(
            1, -1, 1, 1))
        self.register_buffer('std', std.detach().clone().float().view(
            1, -1, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Features of RGB ``[0, 255]`` images ``(B, 3, H, W)``."""
        return self.model.extract_feat((images - self.mean) / self.std)


def export_onnx(model: nn.Module,
                out_file: str,
                input_size: Tuple[int, int] = (256, 128),
                opset_version: int = 17) -> str:
    """Write the model's feature extractor as an ONNX file.

    Args:
        model (nn.Module): a re-ID model (e.g. from
            :func:`~mmreid_unsup.apis.init_model`).
        out_file (str): the ``.onnx`` file to write.
        input_size (tuple[int, int]): ``(height, width)`` of the input
            images. Defaults to (256, 128).
        opset_version (int): ONNX opset. Defaults to 17.

    Returns:
        str: ``out_file``.

    Raises:
        OSError: If ``out_file`` cannot be written (checked before the
            export starts), naming it and its folder.
    """
    check_writable_output(out_file, 'ONNX file')
    export_model = ReIDExportModel(model).cpu().eval()
    dummy = torch.rand(2, 3, *input_size) * 255
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript-based exporter is deprecated in favour of dynamo
        # in recent torch; it needs no extra package and handles these
        # models, so silence the notice.
        warnings.simplefilter('ignore', category=DeprecationWarning)
        torch.onnx.export(
            export_model, (dummy, ),
            out_file,
            input_names=[ONNX_INPUT_NAME],
            output_names=[ONNX_OUTPUT_NAME],
            dynamic_axes={
                ONNX_INPUT_NAME: {
                    0: 'batch'
                },
                ONNX_OUTPUT_NAME: {
                    0: 'batch'
                }
            },
            opset_version=opset_version,
            do_constant_folding=True,
            dynamo=False)
    return out_file


def check_onnx(model: nn.Module,
               onnx_file: str,
               images: torch.Tensor,
               atol: float = ONNX_ATOL) -> float:
    """Compare ONNX Runtime's features with PyTorch's on the same images.

    Args:
        model (nn.Module): the re-ID model that was exported.
        onnx_file (str): the exported file.
        images (Tensor): ``(B, 3, H, W)`` RGB ``[0, 255]`` float images.
        atol (float): the largest absolute difference allowed. Defaults to
            :data:`ONNX_ATOL`.

    Returns:
        float: the largest absolute difference found.

    Raises:
        ImportError: if onnxruntime is not installed.
        AssertionError: if the difference exceeds ``atol``.
    """
    try:
        import onnxruntime as ort
    except ImportError:
        raise ImportError('checking the export needs onnxruntime: '
                          'pip install onnxruntime') from None
    export_model = ReIDExportModel(model).cpu().eval()
    images = images.detach().float().cpu()
    with torch.no_grad():
        expected = export_model(images).numpy()
    session = ort.InferenceSession(
        onnx_file, providers=['CPUExecutionProvider'])
    (got, ) = session.run([ONNX_OUTPUT_NAME],
                          {ONNX_INPUT_NAME: images.numpy()})
    if got.shape != expected.shape:
        raise AssertionError(f'ONNX output shape {got.shape} differs from '
                             f'PyTorch {expected.shape}')
    max_diff = float(np.abs(got - expected).max())
    if max_diff > atol:
        raise AssertionError(
            'ONNX Runtime features differ from PyTorch by up to '
            f'{max_diff:.3g} (> atol {atol:g}) in {onnx_file}')
    return max_diff


def random_images(batch: int, input_size: Sequence[int],
                  seed: int = 0) -> torch.Tensor:
    """Reproducible random RGB ``[0, 255]`` images for export checks."""
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, *input_size, generator=gen) * 255
