"""A hook that keeps every validation's metrics, for end-to-end tests."""
from mmengine.hooks import Hook


class ValHistoryHook(Hook):
    """Appends each validation's metrics to :attr:`history`; end-to-end
    tests register it (or a probe built on it) and compare the last entry
    with the start model's ``runner.val()``."""

    priority = 'LOWEST'

    def __init__(self):
        self.history = []

    def after_val_epoch(self, runner, metrics=None):
        self.history.append(dict(metrics))
