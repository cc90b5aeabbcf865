from .reid_runner import (DEFAULT_RUNNER_TYPE, ReIDRunner, build_runner,
                          is_resuming)
from .resumable_train_loop import (EPOCH_PROGRESS_KEY,
                                   ResumableEpochBasedTrainLoop)

__all__ = [
    'EPOCH_PROGRESS_KEY', 'ResumableEpochBasedTrainLoop', 'ReIDRunner',
    'build_runner', 'is_resuming', 'DEFAULT_RUNNER_TYPE'
]
