"""The seed and the checks of the learning tests (``tests/test_e2e``).

``MMREID_TEST_SEED`` (default 0) is the seed every learning test trains
with, so that ``benchmarks/learning_margins.py`` can run them over seeds and
CPU kernels. Each check records its value and its threshold as pytest
properties (they reach the JUnit XML that the benchmark reads), and a test
states all of its checks before it fails on any, so that one run measures
every margin.
"""
import os
from typing import Callable, Dict, List

#: The environment variable holding the learning tests' seed.
SEED_ENV = 'MMREID_TEST_SEED'


def learning_seed() -> int:
    """The seed of the learning tests: ``$MMREID_TEST_SEED``, else 0.

    Raises:
        ValueError: If the variable is set to something else than an int.
    """
    value = os.environ.get(SEED_ENV, '0')
    try:
        return int(value)
    except ValueError:
        raise ValueError(
            f'{SEED_ENV}={value!r}: expected an integer seed') from None


class LearningChecks:
    """Named lower bounds on what a learning test measured.

    Args:
        record_property (Callable): pytest's ``record_property`` fixture.
    """

    def __init__(self, record_property: Callable[[str, object], None]):
        self.record_property = record_property
        self.failures: List[str] = []

    def record(self, name: str, value: float) -> None:
        """Record a measurement that is not required to pass a bound.

        Values go through ``float`` (pytest-xdist cannot send numpy
        scalars to the controller).

        Args:
            name (str): What was measured.
            value (float): The measurement.
        """
        self.record_property(name, float(value))

    def above(self, name: str, value: float, threshold: float) -> None:
        """Record ``value`` and require it to be above ``threshold``.

        Args:
            name (str): What was measured, e.g. ``'mAP gain'``.
            value (float): The measurement.
            threshold (float): The bound it must exceed.
        """
        self.record(name, value)
        self.record(f'{name} threshold', threshold)
        if not value > threshold:
            self.failures.append(f'{name} {value:.4g} <= {threshold:.4g}')

    def gain(self, key: str, before: Dict[str, float],
             after: Dict[str, float], threshold: float) -> None:
        """Require the metric ``key`` to gain more than ``threshold``.

        Args:
            key (str): A validation metric, e.g. ``'reid/mAP'``.
            before (dict): The metrics before training.
            after (dict): The metrics after training.
            threshold (float): The smallest gain allowed (exclusive).
        """
        self.above(f'{key} gain', after[key] - before[key], threshold)

    def verify(self) -> None:
        """Fail with every check that did not hold."""
        assert not self.failures, '; '.join(self.failures)
