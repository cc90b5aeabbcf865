from .cached_pretty_text_config import CachedPrettyTextConfig
from .reid_runner import (DEFAULT_RUNNER_TYPE, ReIDRunner, build_runner,
                          is_resuming)
from .resumable_train_loop import (EPOCH_PROGRESS_KEY,
                                   ResumableEpochBasedTrainLoop)

__all__ = [
    'CachedPrettyTextConfig', 'EPOCH_PROGRESS_KEY',
    'ResumableEpochBasedTrainLoop', 'ReIDRunner', 'build_runner',
    'is_resuming', 'DEFAULT_RUNNER_TYPE'
]
