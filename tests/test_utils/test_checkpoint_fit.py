"""checkpoint_fit: missing / unexpected / mismatched keys, counted before
anything is loaded; resizable buffers and num_batches_tracked are fine."""
import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseTTAModel

from mmreid_unsup.models.utils import ResizableBufferMixin
from mmreid_unsup.utils.checkpoint_fit import (CheckpointMismatchError,
                                               check_checkpoint_fit,
                                               checkpoint_fit,
                                               checkpoint_state_dict)


class Memory(ResizableBufferMixin, nn.Module):
    resizable_buffers = ('bank', )

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer('bank', torch.zeros(0, 4))


class TTA(BaseTTAModel):

    def merge_preds(self, data_samples_list):
        return data_samples_list[0]


class Net(nn.Module):

    def __init__(self, width: int = 4) -> None:
        super().__init__()
        self.fc = nn.Linear(4, width)
        self.bn = nn.BatchNorm1d(width)
        self.memory = Memory()

    def test_step(self, data):  # BaseTTAModel wraps only models that test
        return data


def test_the_same_model_fits_with_another_bank_size():
    saved = Net().state_dict()
    saved['memory.bank'] = torch.ones(7, 4)  # 7 clusters in that run
    fit = checkpoint_fit(Net(), saved)
    assert fit.fits and fit.num_loaded == fit.num_model_keys == 8
    # Without the data-dependent buffer or BatchNorm's counter: still fits.
    del saved['memory.bank'], saved['bn.num_batches_tracked']
    assert checkpoint_fit(Net(), saved).fits


def test_each_kind_of_difference_is_counted_with_examples():
    saved = Net(width=8).state_dict()
    del saved['fc.bias']
    saved['classifier.weight'] = torch.zeros(3, 4)
    fit = checkpoint_fit(Net(width=4), saved)
    assert fit.missing == ('fc.bias', )
    assert fit.unexpected == ('classifier.weight', )
    assert [m[0] for m in fit.mismatched] == [
        'fc.weight', 'bn.weight', 'bn.bias', 'bn.running_mean',
        'bn.running_var'
    ]
    assert fit.mismatched[0][1:] == ((8, 4), (4, 4))
    summary = fit.summary(num_examples=2)
    assert '1 missing (e.g. fc.bias)' in summary
    assert '1 unexpected (e.g. classifier.weight)' in summary
    assert ('5 of another shape (e.g. fc.weight: checkpoint [8, 4] vs '
            'model [4, 4], bn.weight: checkpoint [8] vs model [4], ...)'
            in summary)


def test_wrappers_and_prefixes_are_looked_through():
    saved = {'module.' + k: v for k, v in Net().state_dict().items()}
    state_dict = checkpoint_state_dict({'state_dict': saved, 'meta': {}})
    assert list(state_dict) == list(Net().state_dict())
    assert checkpoint_fit(TTA(module=Net()), state_dict).fits
    # A bare state dict (no 'state_dict' key) is read as one.
    assert checkpoint_fit(Net(), checkpoint_state_dict(Net().state_dict())
                          ).fits


def test_strict_refuses_naming_the_file_and_the_option(capsys):
    empty = {'state_dict': {}, 'meta': {}}
    with pytest.raises(CheckpointMismatchError) as excinfo:
        check_checkpoint_fit(Net(), empty, source='empty.pth',
                             allow_hint='pass --allow-partial-load')
    message = str(excinfo.value)
    assert message.startswith('checkpoint empty.pth does not fit the model')
    assert '0 of the 8 tensors of the model (Net)' in message
    assert '6 missing (e.g. fc.weight, fc.bias, bn.weight, ...)' in message
    assert message.endswith('pass --allow-partial-load.')
    assert isinstance(excinfo.value, RuntimeError)
    with pytest.raises(CheckpointMismatchError, match='bad.pth: .*a list'):
        check_checkpoint_fit(Net(), {'state_dict': []}, source='bad.pth')


def test_partial_load_on_purpose_warns_and_returns_the_fit(capsys):
    fit = check_checkpoint_fit(
        Net(), {'state_dict': {}}, source='empty.pth', strict=False,
        logger=None)
    assert not fit.fits and len(fit.missing) == 6
    assert 'Partial load of empty.pth (allowed)' in capsys.readouterr().out
