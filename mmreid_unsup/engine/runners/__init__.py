from .resumable_train_loop import (EPOCH_PROGRESS_KEY,
                                   ResumableEpochBasedTrainLoop)

__all__ = ['EPOCH_PROGRESS_KEY', 'ResumableEpochBasedTrainLoop']
