"""The hook-model-sampler contracts: the toolbox's parts offer them, and
the engine finds a training sampler by them."""
from types import SimpleNamespace

import pytest

from mmreid_unsup.datasets.samplers import (CameraAwareIdentitySampler,
                                            PseudoPairSampler,
                                            RandomInstanceSampler)
from mmreid_unsup.engine.contracts import (BatchBuildingSampler,
                                           EpochAwareModel, LabelledSampler,
                                           LossCheckingModel,
                                           NeighbourStatsModel, PartnerLabeler,
                                           ProgressLabeler, ShardingLabeler,
                                           SkippableSampler,
                                           check_sampler_batch_size,
                                           find_sampler)
from mmreid_unsup.models import GSL, PPSSL, SCL, BaseReIDModel, ClusterContrast
from mmreid_unsup.models.memories import BaseMemory
from mmreid_unsup.pseudo_labels import (DBSCANLabeler, KMeansLabeler,
                                        PseudoPairLabeler)


def test_the_samplers_offer_their_contracts():
    for sampler in (CameraAwareIdentitySampler, PseudoPairSampler):
        assert issubclass(sampler, LabelledSampler)
    assert not issubclass(RandomInstanceSampler, LabelledSampler)
    for sampler in (CameraAwareIdentitySampler, PseudoPairSampler,
                    RandomInstanceSampler):
        assert issubclass(sampler, SkippableSampler)


def test_the_models_offer_their_contracts():
    for model in (SCL, GSL, PPSSL):
        assert issubclass(model, EpochAwareModel)
    assert not issubclass(ClusterContrast, EpochAwareModel)
    for model in (SCL, GSL):
        assert issubclass(model, NeighbourStatsModel)
        # InstanceMemoryModel, required by InstanceMemoryHook.
        assert callable(model.init_memories)
        assert isinstance(model.num_memory_instances, property)
    assert issubclass(BaseReIDModel, LossCheckingModel)
    # PseudoLabelledModel and MemoryOwner, required by ClusterRefreshHook
    # and MemoryMomentumHook; PendingUpdateMemory of the memories.
    assert callable(BaseReIDModel.set_pseudo_labels)
    assert callable(BaseReIDModel.memories)
    assert callable(BaseMemory.apply_pending_update)


def test_the_labelers_offer_their_contracts():
    pairs, clusters = PseudoPairLabeler(max_partners=3), DBSCANLabeler()
    assert isinstance(pairs, PartnerLabeler) and pairs.label_width == 3
    assert not isinstance(clusters, PartnerLabeler)
    assert isinstance(clusters, ProgressLabeler)
    assert clusters.last_stats == {}
    # Every BaseLabeler says whether it splits its work over ranks.
    assert isinstance(clusters, ShardingLabeler)
    assert clusters.shards_across_ranks
    assert not DBSCANLabeler(sparse=False).shards_across_ranks
    for labeler in (pairs, KMeansLabeler(num_clusters=2)):
        assert isinstance(labeler, ShardingLabeler)
        assert not labeler.shards_across_ranks


class _Labelled:
    batch_size = 8

    def set_labels(self, labels, camids=None):
        pass


def test_find_sampler_looks_behind_the_batch_sampler():
    labelled, plain = _Labelled(), object()
    direct = SimpleNamespace(
        sampler=labelled, batch_sampler=SimpleNamespace(sampler=labelled))
    assert find_sampler(direct, LabelledSampler) is labelled
    behind = SimpleNamespace(
        sampler=plain, batch_sampler=SimpleNamespace(sampler=labelled))
    assert find_sampler(behind, LabelledSampler) is labelled
    assert find_sampler(behind, SkippableSampler) is None
    assert find_sampler(SimpleNamespace(), LabelledSampler) is None


def test_a_batch_building_sampler_must_agree_with_its_dataloader():
    sampler = _Labelled()
    assert isinstance(sampler, BatchBuildingSampler)
    check_sampler_batch_size(sampler, SimpleNamespace(batch_size=8), 'Probe')
    check_sampler_batch_size(None, SimpleNamespace(batch_size=8), 'Probe')
    check_sampler_batch_size(object(), SimpleNamespace(batch_size=8), 'Probe')
    with pytest.raises(ValueError, match=r'Probe: train_dataloader.sampler.'
                       r'batch_size=8 differs from train_dataloader.'
                       r'batch_size=4; set both to the same value'):
        check_sampler_batch_size(sampler, SimpleNamespace(batch_size=4),
                                 'Probe')
