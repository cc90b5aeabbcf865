"""Draw a query and its ranked gallery as one picture."""
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = [
    'STATUS_COLORS', 'RankedListLayout', 'draw_ranked_list',
    'gallery_statuses', 'read_rgb'
]

#: Frame colour (RGB) of each kind of cell.
STATUS_COLORS: Dict[str, Tuple[int, int, int]] = dict(
    query=(30, 90, 230),  # blue
    match=(0, 200, 0),  # green: same identity, another camera
    wrong=(230, 0, 0),  # red: another identity
    junk=(150, 150, 150),  # grey: same identity and camera, not counted
    unknown=(60, 60, 60),  # dark grey: no ground truth (search)
)
_BACKGROUND = (255, 255, 255)
_TEXT = (0, 0, 0)


@dataclass(frozen=True)
class RankedListLayout:
    """Where each cell of a ranked-list picture goes.

    One row: the query, a wider gap, then the gallery cells in rank order.
    Every cell is an image of ``cell_size`` inside a frame of ``border``
    pixels, under a ``label_height`` strip of text.

    Args:
        cell_size (tuple[int, int]): ``(height, width)`` of each image.
        border (int): frame thickness in pixels.
        gap (int): space between gallery cells.
        query_gap (int): space between the query and the first result.
        label_height (int): height of the text strip above the cells.
        margin (int): space around everything.
    """

    cell_size: Tuple[int, int] = (128, 64)
    border: int = 4
    gap: int = 6
    query_gap: int = 20
    label_height: int = 16
    margin: int = 6

    @property
    def framed(self) -> Tuple[int, int]:
        """``(height, width)`` of a cell with its frame."""
        height, width = self.cell_size
        return height + 2 * self.border, width + 2 * self.border

    def canvas_size(self, num_gallery: int) -> Tuple[int, int]:
        """``(height, width)`` of the picture for ``num_gallery`` results."""
        height, width = self.framed
        total_w = (2 * self.margin + (num_gallery + 1) * width +
                   max(num_gallery - 1, 0) * self.gap +
                   (self.query_gap if num_gallery else 0))
        return 2 * self.margin + self.label_height + height, total_w

    def box(self, cell: int) -> Tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)`` of a framed cell (exclusive ends); cell 0 is
        the query, cell ``i`` the ``i``-th result."""
        height, width = self.framed
        x0 = self.margin
        if cell > 0:
            x0 += width + self.query_gap + (cell - 1) * (width + self.gap)
        y0 = self.margin + self.label_height
        return x0, y0, x0 + width, y0 + height


def read_rgb(path: str) -> np.ndarray:
    """Read an image file as RGB ``uint8``.

    Args:
        path (str): the image file.

    Returns:
        np.ndarray: ``(H, W, 3)``.

    Raises:
        FileNotFoundError: if the file cannot be read as an image.
    """
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f'cannot read image {path}')
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def gallery_statuses(q_pid: int, q_camid: int, g_pids: Sequence[int],
                     g_camids: Sequence[int]) -> Tuple[list, list]:
    """Status and label of ranked gallery items under the standard junk
    rule.

    Args:
        q_pid (int): the query's identity.
        q_camid (int): the query's camera.
        g_pids (Sequence[int]): identities of the ranked items.
        g_camids (Sequence[int]): their cameras.

    Returns:
        tuple[list[str], list[str]]: statuses (``'match'``, ``'wrong'``,
        ``'junk'``) and labels (the rank among counted items, ``'#3'``, or
        ``'junk'``).
    """
    statuses, labels, rank = [], [], 0
    for pid, camid in zip(g_pids, g_camids):
        if pid == q_pid and camid == q_camid:
            statuses.append('junk')
            labels.append('junk')
            continue
        rank += 1
        statuses.append('match' if pid == q_pid else 'wrong')
        labels.append(f'#{rank}')
    return statuses, labels


def _put_label(canvas: np.ndarray, text: str, box: tuple,
               layout: RankedListLayout) -> None:
    x0, y0, x1, _ = box
    font, scale, thickness = cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1
    (text_w, _), _ = cv2.getTextSize(text, font, scale, thickness)
    x = x0 + max((x1 - x0 - text_w) // 2, 0)
    y = y0 - max((layout.label_height - 10) // 2, 2)
    cv2.putText(canvas, text, (x, y), font, scale, _TEXT, thickness,
                cv2.LINE_AA)


def draw_ranked_list(query: np.ndarray,
                     gallery: Sequence[np.ndarray],
                     statuses: Sequence[str],
                     labels: Optional[Sequence[str]] = None,
                     query_label: str = 'query',
                     layout: Optional[RankedListLayout] = None) -> np.ndarray:
    """The query and its ranked gallery in one row, each result framed by
    its status colour (:data:`STATUS_COLORS`).

    Args:
        query (np.ndarray): the query image, RGB ``(H, W, 3)`` uint8.
        gallery (Sequence[np.ndarray]): the results in rank order, RGB.
        statuses (Sequence[str]): one of ``'match'``, ``'wrong'``,
            ``'junk'``, ``'unknown'`` per result.
        labels (Sequence[str], optional): text above each result. Defaults
            to the 1-based position.
        query_label (str): text above the query. Defaults to ``'query'``.
        layout (RankedListLayout, optional): sizes. Defaults to
            ``RankedListLayout()``.

    Returns:
        np.ndarray: the picture, RGB uint8, of size
        ``layout.canvas_size(len(gallery))``.

    Raises:
        ValueError: on an unknown status or mismatched lengths.
    """
    layout = layout or RankedListLayout()
    if len(statuses) != len(gallery):
        raise ValueError(f'{len(gallery)} gallery images but '
                         f'{len(statuses)} statuses')
    unknown = sorted(set(statuses) - set(STATUS_COLORS) - {'query'})
    if unknown:
        raise ValueError(f'unknown status(es) {unknown}; expected one of '
                         f'{sorted(STATUS_COLORS)}')
    if labels is None:
        labels = [str(i + 1) for i in range(len(gallery))]
    height, width = layout.canvas_size(len(gallery))
    canvas = np.full((height, width, 3), _BACKGROUND, dtype=np.uint8)
    cell_h, cell_w = layout.cell_size
    cells = [(query, 'query', query_label)] + list(
        zip(gallery, statuses, labels))
    for index, (img, status, label) in enumerate(cells):
        x0, y0, x1, y1 = layout.box(index)
        canvas[y0:y1, x0:x1] = STATUS_COLORS[status]
        img = np.asarray(img)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        resized = cv2.resize(
            img[..., :3], (cell_w, cell_h), interpolation=cv2.INTER_AREA)
        b = layout.border
        canvas[y0 + b:y1 - b, x0 + b:x1 - b] = resized
        _put_label(canvas, label, (x0, y0, x1, y1), layout)
    return canvas
