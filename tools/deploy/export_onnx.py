"""Export a re-ID model to ONNX and check it with ONNX Runtime.

``python tools/deploy/export_onnx.py CONFIG CHECKPOINT --out model.onnx
[--input-size 256 128] [--no-check]``

The ONNX model takes ``images``: ``(B, 3, H, W)`` float32 RGB pixels in
``[0, 255]`` (any batch size) and returns ``features``: ``(B, D)``
L2-normalised, the model's test-time features. After the export, ONNX
Runtime and PyTorch describe the same random images; the export fails if
any feature component differs by more than 1e-4 (features are unit
vectors, so this is far below anything that changes a ranking).
"""
import argparse
from typing import List, Optional

from mmreid_unsup.apis import check_onnx, export_onnx, init_model
from mmreid_unsup.apis.export import ONNX_ATOL, random_images
from mmreid_unsup.utils.writable_output import check_writable_output


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Export a model to ONNX')
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='checkpoint to export')
    parser.add_argument('--out', required=True, help='the .onnx file')
    parser.add_argument(
        '--input-size',
        type=int,
        nargs=2,
        metavar=('HEIGHT', 'WIDTH'),
        help='input size (default: the test pipeline\'s, else 256 128)')
    parser.add_argument('--opset', type=int, default=17, help='ONNX opset')
    parser.add_argument(
        '--atol',
        type=float,
        default=ONNX_ATOL,
        help=f'largest feature difference allowed (default {ONNX_ATOL:g})')
    parser.add_argument(
        '--no-check',
        action='store_true',
        help='skip the ONNX Runtime comparison')
    return parser.parse_args(argv)


def pipeline_input_size(cfg) -> Optional[tuple]:
    """``(height, width)`` from the test pipeline's ``Resize`` (whose
    ``scale`` is ``(width, height)``), or None."""
    try:
        pipeline = cfg.test_dataloader.dataset.pipeline
    except AttributeError:
        return None
    for step in pipeline:
        if step.get('type') == 'Resize' and 'scale' in step:
            width, height = step['scale']
            return int(height), int(width)
    return None


def main(argv: Optional[List[str]] = None) -> Optional[float]:
    args = parse_args(argv)
    # Before the model loads and the export runs, not after.
    check_writable_output(args.out, 'ONNX file')
    model = init_model(args.config, args.checkpoint, device='cpu')
    input_size = tuple(args.input_size or pipeline_input_size(model.cfg)
                       or (256, 128))
    export_onnx(
        model, args.out, input_size=input_size, opset_version=args.opset)
    print(f'exported {args.out} (input 3x{input_size[0]}x{input_size[1]}, '
          'RGB 0-255, dynamic batch)')
    if args.no_check:
        return None
    max_diff = check_onnx(
        model, args.out, random_images(4, input_size), atol=args.atol)
    print(f'ONNX Runtime matches PyTorch: max |difference| {max_diff:.2e} '
          f'<= {args.atol:g}')
    return max_diff


if __name__ == '__main__':
    main()
