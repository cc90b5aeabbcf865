"""Ranked-list pictures: layout, frame colours, and the test-time hook."""
import logging
import math
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch

from mmreid_unsup.structures import ReIDDataSample
from mmreid_unsup.visualization import (STATUS_COLORS, RankedListLayout,
                                        RankedListVisualizationHook,
                                        draw_ranked_list, gallery_statuses)


def frame_colour(picture, layout, cell):
    """The colour in the middle of a cell's top frame edge."""
    x0, y0, x1, _ = layout.box(cell)
    return tuple(int(v) for v in picture[y0 + layout.border // 2,
                                         (x0 + x1) // 2])


def test_layout_and_colours():
    layout = RankedListLayout(cell_size=(40, 20), border=3)
    solid = [np.full((64, 32, 3), v, np.uint8) for v in (10, 60, 110, 160)]
    picture = draw_ranked_list(solid[0], solid[1:], ['match', 'wrong', 'junk'],
                               layout=layout)
    assert picture.shape == layout.canvas_size(3) + (3, )
    assert picture.dtype == np.uint8
    for cell, status in enumerate(['query', 'match', 'wrong', 'junk']):
        assert frame_colour(picture, layout, cell) == STATUS_COLORS[status]
        # The image itself sits inside the frame.
        x0, y0, x1, y1 = layout.box(cell)
        inner = picture[y0 + 3:y1 - 3, x0 + 3:x1 - 3]
        assert inner.shape == (40, 20, 3)
        assert (inner == solid[cell][0, 0]).all()
    with pytest.raises(ValueError, match='unknown status'):
        draw_ranked_list(solid[0], solid[1:2], ['maybe'])
    with pytest.raises(ValueError, match='statuses'):
        draw_ranked_list(solid[0], solid[1:3], ['match'])


def test_gallery_statuses_follow_the_junk_rule():
    statuses, labels = gallery_statuses(
        q_pid=1, q_camid=0, g_pids=[1, 2, 1, 1], g_camids=[1, 0, 0, 2])
    assert statuses == ['match', 'wrong', 'junk', 'match']
    assert labels == ['#1', '#2', 'junk', '#3']


# (angle in degrees, pid, camid, is_query); image colour = index * 20.
SET = [
    (0, 1, 0, True),
    (10, 1, 1, False),  # match
    (20, 2, 0, False),  # wrong
    (30, 1, 0, False),  # junk: same id and camera as the query
    (40, 1, 2, False),  # match
    (50, 3, 1, False),  # wrong
]


def fake_outputs(folder, prefix):
    samples = []
    for index, (angle, pid, camid, is_query) in enumerate(SET):
        path = folder / f'{prefix}_{index}.png'
        cv2.imwrite(str(path), np.full((64, 32, 3), index * 20, np.uint8))
        sample = ReIDDataSample(
            metainfo=dict(pid=pid, camid=camid, is_query=is_query,
                          img_path=str(path)))
        rad = math.radians(angle)
        sample.feat = torch.tensor([math.cos(rad), math.sin(rad)])
        samples.append(sample)
    return samples


class FakeConcat(list):
    metainfo: dict


def test_hook_frames_true_matches_green(tmp_path):
    samples = fake_outputs(tmp_path, 'a') + fake_outputs(tmp_path, 'b')
    # Two evaluation sets, as a ConcatReIDDataset describes them.
    dataset = FakeConcat([None] * 12)
    dataset.metainfo = dict(dataset_names=['a', 'b'], cumulative_sizes=[6, 12])
    runner = SimpleNamespace(
        test_dataloader=SimpleNamespace(dataset=dataset),
        logger=logging.getLogger('test_ranked_list'),
        iter=0)
    hook = RankedListVisualizationHook(
        out_dir=str(tmp_path / 'show'), topk=5, num_queries=3,
        cell_size=(40, 20))
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, None, samples[:7])
    hook.after_test_iter(runner, 1, None, samples[7:])
    hook.after_test_epoch(runner, {})

    layout = RankedListLayout(cell_size=(40, 20))
    for name in ('a', 'b'):
        files = sorted((tmp_path / 'show' / name).glob('*.png'))
        assert [f.name for f in files] == [f'00000_{name}_0.png']
        picture = cv2.cvtColor(cv2.imread(str(files[0])), cv2.COLOR_BGR2RGB)
        assert picture.shape == layout.canvas_size(5) + (3, )
        statuses = [
            frame_colour(picture, layout, cell) for cell in range(1, 6)
        ]
        assert statuses == [
            STATUS_COLORS[s]
            for s in ('match', 'wrong', 'junk', 'match', 'wrong')
        ]
        # The first result is gallery image 1 (colour 20), the query 0.
        x0, y0, x1, y1 = layout.box(1)
        assert (picture[y0 + 10, x0 + 10] == 20).all()
        x0, y0, x1, y1 = layout.box(0)
        assert (picture[y0 + 10, x0 + 10] == 0).all()
