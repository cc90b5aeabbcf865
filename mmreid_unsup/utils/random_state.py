"""Capture, restore and scope the global random number generators.

Python's ``random``, NumPy's global ``np.random`` and torch's default
generators (CPU, and every CUDA device when CUDA is initialised) are the
state a training process draws from outside explicit ``Generator`` objects.
A checkpoint that holds them lets a resumed run continue the same random
streams (:class:`~mmreid_unsup.engine.hooks.RandomStateHook`), and
:func:`seeded_random_state` gives one data sample its own reproducible
stream without disturbing the caller's.

The captured states contain only lists, ints, floats, strings and tensors,
so they load with ``torch.load(weights_only=True)``.
"""
import random
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch

#: Keys of the dict returned by :func:`get_random_states`.
RANDOM_STATE_KEYS = ('python', 'numpy', 'torch', 'torch_cuda')


def get_random_states() -> dict:
    """The current states of the global generators.

    Returns:
        dict: ``python`` (``random.getstate()`` as lists), ``numpy`` (the
        MT19937 state with its key as a list of ints), ``torch`` (the CPU
        generator's ``ByteTensor``) and ``torch_cuda`` (one ``ByteTensor``
        per device; empty when CUDA is not initialised).
    """
    version, internal, gauss = random.getstate()
    np_state = np.random.get_state(legacy=False)
    cuda = []
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        cuda = [state.clone() for state in torch.cuda.get_rng_state_all()]
    return dict(
        python=[version, list(internal), gauss],
        numpy=dict(
            bit_generator=np_state['bit_generator'],
            key=np_state['state']['key'].tolist(),
            pos=int(np_state['state']['pos']),
            has_gauss=int(np_state['has_gauss']),
            gauss=float(np_state['gauss'])),
        torch=torch.get_rng_state().clone(),
        torch_cuda=cuda)


def set_random_states(states: dict) -> None:
    """Restore states captured by :func:`get_random_states`.

    Args:
        states (dict): As returned by :func:`get_random_states`; every key
            of :data:`RANDOM_STATE_KEYS` must be present. CUDA states are
            restored when CUDA is available and the device counts match.

    Raises:
        KeyError: If a key is missing (names the key and the keys found).
    """
    missing = [key for key in RANDOM_STATE_KEYS if key not in states]
    if missing:
        raise KeyError(f'set_random_states: missing {missing}; expected the '
                       f'keys {RANDOM_STATE_KEYS}, got {sorted(states)}')
    version, internal, gauss = states['python']
    random.setstate((version, tuple(internal), gauss))
    np_state = states['numpy']
    np.random.set_state(
        dict(
            bit_generator=np_state['bit_generator'],
            state=dict(
                key=np.asarray(np_state['key'], dtype=np.uint32),
                pos=np_state['pos']),
            has_gauss=np_state['has_gauss'],
            gauss=np_state['gauss']))
    torch.set_rng_state(torch.as_tensor(states['torch'], dtype=torch.uint8))
    cuda = states['torch_cuda']
    if cuda and torch.cuda.is_available() \
            and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


@contextmanager
def seeded_random_state(seed: int) -> Iterator[None]:
    """Seed Python, NumPy and torch (CPU) inside the block, then put the
    caller's states back.

    A data sample's augmentation run inside this block depends on ``seed``
    only, whichever process (main or a dataloader worker) runs it and
    whatever that process drew before.

    Args:
        seed (int): In ``[0, 2**32)``.
    """
    seed = int(seed)
    py_state = random.getstate()
    np_state = np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        random.seed(seed)
        np.random.seed(seed)
        torch.default_generator.manual_seed(seed)  # CPU only: CUDA untouched
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)
