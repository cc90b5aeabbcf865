"""The one policy for feature rows no labeler can use: non-finite or zero.

One NaN element makes every distance of its row NaN, and a kNN search or a
DBSCAN fed NaN distances can lose every cluster; a zero row is equally
close to every sample, so it bridges real clusters together. Every pseudo
labeler (the labelers of :class:`~mmreid_unsup.pseudo_labels.BaseLabeler`)
and every per-batch sample selector (SCL's ``NeighbourSelector``, GSL's
``CredibleSampleSelector``, :mod:`mmreid_unsup.models.sample_selectors`)
checks its features with :func:`find_bad_feature_rows` and applies
:func:`handle_bad_feature_rows` (through :class:`BadRowMonitor` when it
runs every iteration):

- ``on_bad_features='outlier'`` (default): the rows are outliers, label
  ``-1`` (no partner, no credible sample, never a neighbour), and are left
  out of the neighbour search, so the other rows are labelled as if they
  were absent; a warning names how many rows and the first few indices.
- ``on_bad_features='error'``: the labeler stops with that message.
"""
import logging
from dataclasses import dataclass
from typing import Dict

import torch
from mmengine.logging import print_log

__all__ = [
    'BAD_FEATURE_POLICIES', 'BadFeatureRows', 'find_bad_feature_rows',
    'handle_bad_feature_rows', 'check_bad_feature_policy', 'BadRowMonitor'
]

#: What a labeler does with non-finite or zero feature rows.
BAD_FEATURE_POLICIES = ('outlier', 'error')

#: Rows with a norm at most this are zero (``F.normalize``'s ``eps``: such
#: rows cannot be scaled to unit length).
ZERO_NORM = 1e-12

#: Row indices quoted in a message.
_NUM_QUOTED = 5


def _quote(indices: torch.Tensor) -> str:
    shown = ', '.join(str(i) for i in indices[:_NUM_QUOTED].tolist())
    return shown + (', ...' if indices.numel() > _NUM_QUOTED else '')


@dataclass(frozen=True)
class BadFeatureRows:
    """The rows of a feature matrix that cannot be labelled.

    Attributes:
        num_rows (int): Rows checked, ``N``.
        nonfinite (Tensor): ``(n1,)`` long indices, ascending, of the rows
            with a NaN or infinite element (or a norm overflowing float32).
        zero (Tensor): ``(n0,)`` long indices, ascending, of the finite rows
            of (near) zero norm.
    """

    num_rows: int
    nonfinite: torch.Tensor
    zero: torch.Tensor

    @property
    def num_bad(self) -> int:
        """Rows of either kind."""
        return int(self.nonfinite.numel() + self.zero.numel())

    @property
    def bad_mask(self) -> torch.Tensor:
        """``(N,)`` bool, True on the bad rows (on the indices' device)."""
        mask = torch.zeros(
            self.num_rows, dtype=torch.bool, device=self.nonfinite.device)
        mask[self.nonfinite] = True
        mask[self.zero] = True
        return mask

    def stats(self) -> Dict[str, int]:
        """``nonfinite_rows`` and ``zero_rows``, for diagnostics."""
        return dict(
            nonfinite_rows=int(self.nonfinite.numel()),
            zero_rows=int(self.zero.numel()))

    def describe(self, what: str = 'feature rows') -> str:
        """One phrase naming the counts and the first indices.

        Args:
            what (str): What the rows are. Defaults to ``'feature rows'``.

        Returns:
            str: e.g. ``'3 of 40 feature rows cannot be labelled: 2 have a
            NaN or Inf element (rows 3, 9) and 1 has zero norm (row 5)'``.
        """
        parts = []
        for indices, problem in ((self.nonfinite, 'a NaN or Inf element'),
                                 (self.zero, 'zero norm')):
            count = indices.numel()
            if count:
                row = 'row' if count == 1 else 'rows'
                verb = 'has' if count == 1 else 'have'
                parts.append(f'{count} {verb} {problem} ({row} '
                             f'{_quote(indices)})')
        return (f'{self.num_bad} of {self.num_rows} {what} cannot be '
                f'labelled: ' + ' and '.join(parts))


def find_bad_feature_rows(*features: torch.Tensor) -> BadFeatureRows:
    """Find the non-finite and the zero rows of one or more feature sets.

    A single norm per row finds both (a NaN or infinite element makes the
    norm non-finite), so no ``(N, D)`` temporary is made.

    Args:
        *features (Tensor): ``(N, D)`` features, or ``(N, ...)`` (e.g. a
            stripe memory ``(N, S, D)``: each row is flattened). With
            several tensors (the global and the local memory of the same
            ``N`` samples) a row is bad when it is bad in any of them, and
            non-finite when it is in any.

    Returns:
        BadFeatureRows: The bad rows, indices on the first tensor's device.

    Raises:
        ValueError: Without a tensor, or on tensors of different lengths.
    """
    if not features:
        raise ValueError('find_bad_feature_rows: no features given')
    num = features[0].shape[0] if features[0].dim() else 0
    nonfinite = torch.zeros(num, dtype=torch.bool, device=features[0].device)
    zero = torch.zeros_like(nonfinite)
    for feats in features:
        if feats.dim() == 0 or feats.shape[0] != num:
            raise ValueError('find_bad_feature_rows: expected features of '
                             f'{num} rows, got shape {tuple(feats.shape)}')
        flat = feats.detach().reshape(num, -1)
        if not flat.is_floating_point():
            flat = flat.float()
        norms = torch.linalg.vector_norm(
            flat, dim=1, dtype=torch.float32).to(nonfinite.device)
        nonfinite |= ~torch.isfinite(norms)
        zero |= norms <= ZERO_NORM
    return BadFeatureRows(num,
                          torch.nonzero(nonfinite).flatten(),
                          torch.nonzero(zero & ~nonfinite).flatten())


def check_bad_feature_policy(policy: str, owner: str) -> str:
    """Validate an ``on_bad_features`` value.

    Args:
        policy (str): The value.
        owner (str): Who got it, for the message.

    Returns:
        str: ``policy``.

    Raises:
        ValueError: If it is not one of :data:`BAD_FEATURE_POLICIES`.
    """
    if policy not in BAD_FEATURE_POLICIES:
        raise ValueError(f'{owner}: on_bad_features must be one of '
                         f'{BAD_FEATURE_POLICIES}, got {policy!r}')
    return policy


def handle_bad_feature_rows(bad: BadFeatureRows,
                            policy: str,
                            owner: str,
                            what: str = 'feature rows',
                            consequence: str = 'they become outliers '
                            '(label -1) and are left out of the neighbour '
                            'search',
                            warn: bool = True) -> None:
    """Apply the policy to the bad rows found: warn, or stop.

    Does nothing when there are none.

    Args:
        bad (BadFeatureRows): From :func:`find_bad_feature_rows`.
        policy (str): ``'outlier'`` or ``'error'``.
        owner (str): The labeler, first word of the message.
        what (str): What the rows are. Defaults to ``'feature rows'``.
        consequence (str): What ``'outlier'`` does with them, for the
            warning.
        warn (bool): Log the warning (a caller that runs every iteration
            warns only when the rows change). Defaults to True.

    Raises:
        ValueError: If there are bad rows and ``policy='error'``, or on an
            unknown policy.
    """
    check_bad_feature_policy(policy, owner)
    if not bad.num_bad:
        return
    message = f'{owner}: {bad.describe(what)}'
    if policy == 'error':
        raise ValueError(
            f"{message}; on_bad_features='error' stops here (set "
            "on_bad_features='outlier' to label them -1 and go on). "
            'Non-finite features usually come from a diverged model or '
            'half-precision overflow; zero rows from a blank image or a '
            'dead feature layer')
    if warn:
        print_log(
            f"{message}; on_bad_features='outlier': {consequence}",
            logger='current',
            level=logging.WARNING)


class BadRowMonitor:
    """The policy for a labeler that runs every iteration (a selector).

    It checks the memory or batch features on every call, but warns only
    when the counts of bad rows of that kind changed since its last call,
    so that a memory with one bad entry does not warn every iteration.

    Args:
        policy (str): ``'outlier'`` or ``'error'``.
        owner (str): The labeler, first word of the messages.

    Raises:
        ValueError: On an unknown policy.
    """

    def __init__(self, policy: str, owner: str) -> None:
        self.policy = check_bad_feature_policy(policy, owner)
        self.owner = owner
        self._counts: Dict[str, Dict[str, int]] = {}

    def __call__(self, what: str, consequence: str,
                 *features: torch.Tensor) -> torch.Tensor:
        """Find the bad rows and apply the policy.

        Args:
            what (str): What the rows are (``'memory entries'``), also the
                key of the counts compared between calls.
            consequence (str): What ``'outlier'`` does with them.
            *features (Tensor): Tensors of the same rows, see
                :func:`find_bad_feature_rows`.

        Returns:
            Tensor: ``(N,)`` bool, True on the bad rows.

        Raises:
            ValueError: If there are bad rows and ``policy='error'``.
        """
        bad = find_bad_feature_rows(*features)
        counts = bad.stats()
        handle_bad_feature_rows(
            bad,
            self.policy,
            self.owner,
            what=what,
            consequence=consequence,
            warn=self._counts.get(what) != counts)
        self._counts[what] = counts
        return bad.bad_mask
