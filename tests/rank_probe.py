"""One probe hook for the tests that train with two gloo processes.

The ranks import the config's modules themselves (``tools/dist_train.sh``
starts fresh processes; :func:`gloo_ranks.train_on_gloo_ranks` forks them
from a server that has not seen the test's modules), so a test writes the
probe module beside its config (:func:`write_rank_probe`) and lists it in
``custom_imports``; after the run :func:`read_rank_probes` returns what each
rank recorded: the ``sample_idx`` of every batch it trained on, the model
wrapper's class, the world size, and the model tensors the test named.
"""
import json
from pathlib import Path
from typing import Dict, List, Tuple

import torch

PROBE_SOURCE = '''
import json, operator, os
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmreid_unsup.registry import HOOKS


@HOOKS.register_module()
class RankProbeHook(Hook):
    """Writes this rank's batches and the named tensors of its model."""

    priority = 'LOWEST'

    def __init__(self, out_dir, tensors):
        self.out_dir = out_dir
        self.tensors = tensors
        self.batches = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.batches.append(
            [s.sample_idx for s in data_batch['data_samples']])

    def after_train(self, runner):
        model = runner.model
        wrapped = type(model).__name__
        model = model.module if is_model_wrapper(model) else model
        rank = get_rank()
        torch.save(
            {name: operator.attrgetter(path)(model)
             for name, path in self.tensors.items()},
            os.path.join(self.out_dir, f'rank{rank}.pth'))
        with open(os.path.join(self.out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(dict(batches=self.batches, wrapper=wrapped,
                           world_size=runner.world_size), f)
'''

#: The module name to put in a config's ``custom_imports``.
PROBE_MODULE = 'rank_probe_hook'


def write_rank_probe(folder: Path) -> str:
    """Write the probe module into ``folder`` (first on the ranks' import
    path: ``dist_train_env``'s ``PYTHONPATH``, or ``train_on_gloo_ranks``'s
    ``module_dir``); returns its module name."""
    (folder / f'{PROBE_MODULE}.py').write_text(PROBE_SOURCE)
    return PROBE_MODULE


def read_rank_probes(folder: Path, world_size: int = 2
                     ) -> Tuple[List[Dict[str, torch.Tensor]], List[dict]]:
    """What every rank's ``RankProbeHook`` wrote into ``folder``.

    Returns:
        tuple: per rank, the named tensors and the ``batches`` / ``wrapper``
        / ``world_size`` record.
    """
    states = [torch.load(folder / f'rank{r}.pth') for r in range(world_size)]
    infos = [json.loads((folder / f'rank{r}.json').read_text())
             for r in range(world_size)]
    return states, infos
