default_scope = 'mmreid_unsup'
# The toolbox's runner: reads every checkpoint (load_from, --resume,
# tools/test.py) with weights_only=True, refusing a file that could run
# code, accepts zoo://NAME, and writes checkpoints atomically. The tools
# run only this runner or a subclass of it.
runner_type = 'mmreid_unsup.ReIDRunner'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Saves, then points last_checkpoint at the new file, then prunes: a
    # kill at any moment leaves a checkpoint to --resume from. For long
    # epochs save inside them too: dict(by_epoch=False, interval=500).
    checkpoint=dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # The random generators of every rank go into each checkpoint and come
    # back on --resume, where the checkpoint was taken.
    random_state=dict(type='RandomStateHook'),
    # A NaN or Inf loss stops the run before the optimizer step, naming the
    # iteration and the loss term; the last checkpoint stays good.
    non_finite_loss=dict(type='NonFiniteLossHook'),
    # Under DDP, BatchNorm running statistics are averaged across ranks
    # after every iteration: checkpoints, validation and refreshes then see
    # the same model on every rank.
    sync_norm_stats=dict(type='SyncNormStatsHook'),
    # A load_from / resume checkpoint whose weights do not fit the model
    # stops the run with the missing / unexpected / mismatched keys
    # (set load_from_strict = False to load only what fits, on purpose).
    checkpoint_fit=dict(type='CheckpointFitHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPUs; without CUDA, tools/train.py starts gloo itself.
    dist_cfg=dict(backend='nccl'),
)

# Memories are updated from all-gathered features on every rank, so they
# stay identical without broadcasting buffers each iteration. (The scope
# prefix is needed: MMEngine looks the wrapper up in its root registry.)
model_wrapper_cfg = dict(
    type='mmreid_unsup.ReIDDistributedDataParallel', broadcast_buffers=False)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_processor = dict(by_epoch=True, window_size=20)
log_level = 'INFO'
load_from = None
# False: a load_from checkpoint that does not fit the model is loaded as far
# as it fits, with a warning, instead of stopping the run.
load_from_strict = True
resume = False
randomness = dict(seed=1, deterministic=False)
