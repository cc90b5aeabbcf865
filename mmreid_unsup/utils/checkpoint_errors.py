"""The error raised for a checkpoint file that was refused as unsafe."""
import pickle

#: What every refusal says after its reason.
_NOTHING_LOADED = (
    'mmreid_unsup loads checkpoints with weights_only=True and keeps only '
    'plain data from them, so that loading a file can never run code from '
    'it. Nothing was loaded. If you trust the file, load it yourself, keep '
    'its tensors (the state_dict) and torch.save them to a new file.')

#: What precedes the reason in some of torch's weights_only errors.
_UNPICKLER_ERROR = 'WeightsUnpickler error:'

#: Lines of torch's weights_only error that are advice, not the reason.
_TORCH_ADVICE = ('Weights only load failed', 'In PyTorch 2.6',
                 'Please file an issue', 'Check the documentation',
                 'Re-running `torch.load`', '(2) Alternatively',
                 _UNPICKLER_ERROR)


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint file whose content could run code; it was not loaded.

    A subclass of :class:`pickle.UnpicklingError`, so code that caught the
    error ``torch.load(weights_only=True)`` raises keeps working.
    """


def _refusal_reason(err: BaseException) -> str:
    """The line of torch's weights_only error that says what was refused."""
    lines = [line.strip() for line in str(err).splitlines()]
    for line in lines:  # "\tWeightsUnpickler error: Unsupported global: ..."
        reason = line.partition(_UNPICKLER_ERROR)[2].strip()
        if reason:
            return reason
    reasons = [
        line for line in lines
        if line and not any(advice in line for advice in _TORCH_ADVICE)
    ]
    return reasons[0] if reasons else (lines[0] if lines else repr(err))


def unsafe_checkpoint_error(filename: str,
                            err: BaseException) -> UnsafeCheckpointError:
    """The error to raise for a file ``torch.load`` refused to unpickle.

    Args:
        filename (str): The checkpoint file (or URL) that was refused.
        err (BaseException): The error of ``torch.load(weights_only=True)``.

    Returns:
        UnsafeCheckpointError: With a message naming the file and the
        refused object, and saying why nothing is loaded.
    """
    return UnsafeCheckpointError(
        f'{filename} is not a safe checkpoint: torch.load(weights_only=True) '
        f'refused it ({_refusal_reason(err)}). {_NOTHING_LOADED}')


def unsafe_content_error(filename: str, key_path: str,
                         reason: str) -> UnsafeCheckpointError:
    """The error to raise for an unpickled object that is not plain data.

    Args:
        filename (str): The checkpoint file (or URL).
        key_path (str): Where in the checkpoint the object was found, e.g.
            ``checkpoint['meta']['payload'][0]``.
        reason (str): What was found and why it is refused.

    Returns:
        UnsafeCheckpointError: With a message naming the file, the key path
        and the reason.
    """
    return UnsafeCheckpointError(
        f'{filename} is not a safe checkpoint: {key_path} holds {reason}. '
        f'{_NOTHING_LOADED}')


def is_weights_only_refusal(err: BaseException) -> bool:
    """Whether ``err`` is torch's weights_only unpickler refusing an object.

    Other unpickling errors (a corrupt or truncated file) are not about
    safety and propagate unchanged.

    Args:
        err (BaseException): An error raised by ``torch.load``.

    Returns:
        bool: True for a refusal by the weights_only unpickler (including
        one of :mod:`.checkpoint_stand_ins`).
    """
    return (isinstance(err, pickle.UnpicklingError)
            and not isinstance(err, UnsafeCheckpointError)
            and 'weights only load failed' in str(err).lower())
