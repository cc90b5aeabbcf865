"""Hold out training identities as a validation query / gallery.

Model selection must never look at the test set. The validation set is made
of training identities that training does not see: ``split='train'`` with
``num_holdout_ids=n`` drops them, ``split='holdout'`` with the same ``n``
and ``holdout_seed`` returns them as queries and gallery.

Rules, deterministic for a given seed:

- An identity can be held out when it has images in at least two cameras
  and at least one camera with two or more images, so that it yields a
  query with a cross-camera match.
- For each held-out identity and each of its cameras ``c``, one random image
  of ``c`` becomes a query, provided another camera keeps a gallery image
  (a camera with two or more images); every other image is gallery. So
  every query has a true match and none is skipped by the evaluation.
"""
from collections import defaultdict
from typing import Dict, List, Sequence, Set

import numpy as np

__all__ = ['select_holdout_ids', 'split_query_gallery']


def _images_by_id_and_camera(
        samples: Sequence[dict]) -> Dict[int, Dict[int, List[int]]]:
    """``{pid: {camid: [sample positions]}}`` in sample order."""
    groups: Dict[int, Dict[int, List[int]]] = defaultdict(
        lambda: defaultdict(list))
    for pos, sample in enumerate(samples):
        groups[sample['pid']][sample['camid']].append(pos)
    return groups


def _eligible(cams: Dict[int, List[int]]) -> bool:
    return len(cams) >= 2 and any(len(v) >= 2 for v in cams.values())


def select_holdout_ids(samples: Sequence[dict], num_ids: int,
                       seed: int) -> Set[int]:
    """Choose the held-out identities.

    Args:
        samples (Sequence[dict]): the training samples (``pid``, ``camid``).
        num_ids (int): how many identities to hold out.
        seed (int): seed of the choice.

    Returns:
        set[int]: ``num_ids`` identities, each eligible (see the module
        docstring).

    Raises:
        ValueError: if fewer than ``num_ids`` identities are eligible, or if
            the held-out ones would leave no identity to train on.
    """
    groups = _images_by_id_and_camera(samples)
    eligible = sorted(pid for pid, cams in groups.items() if _eligible(cams))
    if num_ids > len(eligible):
        raise ValueError(
            f'num_holdout_ids={num_ids} but only {len(eligible)} of the '
            f'{len(groups)} training identities can be held out (an '
            'identity needs images in two cameras, two in one of them)')
    if num_ids >= len(groups):
        raise ValueError(
            f'num_holdout_ids={num_ids} would hold out every one of the '
            f'{len(groups)} training identities')
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(eligible), size=num_ids, replace=False)
    return {eligible[i] for i in chosen}


def split_query_gallery(samples: Sequence[dict], pids: Set[int],
                        seed: int) -> List[dict]:
    """The held-out identities' images as queries followed by gallery.

    Args:
        samples (Sequence[dict]): the training samples.
        pids (set[int]): the held-out identities.
        seed (int): seed of the query choice.

    Returns:
        list[dict]: copies of the held-out samples with ``is_query`` set,
        queries first, each part in the original sample order.
    """
    groups = _images_by_id_and_camera(samples)
    rng = np.random.default_rng(seed)
    queries = set()
    for pid in sorted(pids):
        cams = groups[pid]
        multi = {c for c, positions in cams.items() if len(positions) >= 2}
        for camid in sorted(cams):
            if multi - {camid}:
                positions = cams[camid]
                queries.add(positions[int(rng.integers(len(positions)))])
    held = [pos for pos, s in enumerate(samples) if s['pid'] in pids]
    return ([dict(samples[p], is_query=True) for p in held if p in queries] +
            [dict(samples[p], is_query=False)
             for p in held if p not in queries])
