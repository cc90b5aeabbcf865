"""Features of real crops computed by torchreid's own OSNet code, once.

The reference for ``tests/test_models/test_torchreid_parity.py``: a
converted torchreid model must give, through this toolbox's test pipeline,
the features torchreid gives. torchreid is not a dependency and is never
copied here: point this script at a checkout's ``torchreid/models/osnet.py``
(it imports only torch) and it applies torchreid's test transform itself
(torchvision ``Resize((256, 128))`` on the PIL image, bilinear, then
``ToTensor`` and ImageNet ``Normalize``, as
``torchreid.data.transforms.build_transforms`` does for testing).

Usage::

    python tools/model_converters/torchreid_reference_features.py \\
        --osnet-py DEEP_PERSON_REID/torchreid/models/osnet.py \\
        --weights data/weights/osnet_x0_25_msmt17.pth \\
        --data-root data/cuhk03 --ann-file splits/dev_query.csv \\
        --num-images 200 --out tests/data/torchreid_parity/REF.npz

The ``.npz`` holds ``filenames`` (relative to the data root), ``features``
(float16, ``(N, 512)``, the eval-mode output of torchreid's model: its
``fc`` embedding, not normalised) and ``meta`` (a JSON string: source file
and sha256 of ``osnet.py`` and of the weights, the transform).
"""
import argparse
import csv
import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import List

import numpy as np
import torch

#: torchreid's default test-time input size and ImageNet statistics.
HEIGHT, WIDTH = 256, 128
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def sha256(path: Path) -> str:
    """The hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def first_filenames(ann_file: Path, num: int) -> List[str]:
    """The first ``num`` ``filename`` entries of an annotation CSV."""
    with open(ann_file, newline='') as f:
        rows = list(csv.DictReader(f))
    if len(rows) < num:
        raise SystemExit(f'{ann_file} has {len(rows)} entries, fewer than '
                         f'--num-images {num}')
    return [row['filename'] for row in rows[:num]]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--osnet-py', type=Path, required=True)
    parser.add_argument('--weights', type=Path, required=True)
    parser.add_argument('--data-root', type=Path, required=True)
    parser.add_argument('--ann-file', default='splits/dev_query.csv')
    parser.add_argument('--num-images', type=int, default=200)
    parser.add_argument('--out', type=Path, required=True)
    parser.add_argument(
        '--source',
        default='',
        help='where osnet.py comes from, recorded in meta (e.g. '
        'KaiyangZhou/deep-person-reid@COMMIT)')
    args = parser.parse_args(argv)

    import torchvision.transforms as T
    from PIL import Image

    spec = importlib.util.spec_from_file_location('torchreid_osnet',
                                                  args.osnet_py)
    osnet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(osnet)
    state = torch.load(args.weights, map_location='cpu', weights_only=True)
    state = state.get('state_dict', state)
    state = {k.removeprefix('module.'): v for k, v in state.items()}
    model = osnet.osnet_x0_25(
        num_classes=state['classifier.weight'].shape[0], pretrained=False)
    model.load_state_dict(state, strict=True)
    model.eval()

    transform = T.Compose([
        T.Resize((HEIGHT, WIDTH)),
        T.ToTensor(),
        T.Normalize(mean=MEAN, std=STD)
    ])
    names = first_filenames(args.data_root / args.ann_file, args.num_images)
    feats = []
    with torch.no_grad():
        for start in range(0, len(names), 50):
            batch = torch.stack([
                transform(Image.open(args.data_root / n).convert('RGB'))
                for n in names[start:start + 50]
            ])
            feats.append(model(batch))
    meta = dict(
        source=args.source,
        osnet_py='/'.join(args.osnet_py.parts[-3:]),
        osnet_py_sha256=sha256(args.osnet_py),
        weights=args.weights.name,
        weights_sha256=sha256(args.weights),
        ann_file=args.ann_file,
        transform=f'Resize(({HEIGHT}, {WIDTH})) bilinear (PIL), ToTensor, '
        f'Normalize({MEAN}, {STD})',
        torch=torch.__version__)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        filenames=np.asarray(names),
        features=torch.cat(feats).numpy().astype(np.float16),
        meta=np.asarray(json.dumps(meta)))
    print(f'{len(names)} features written to {args.out}')


if __name__ == '__main__':
    sys.exit(main())
