# Selection ablation under the fair CPU protocol: the warm-up lasts the whole
# run, so every image's only positive is itself and its negatives a random
# draw (plain instance discrimination against the memories).
_base_ = ['./scl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py']

model = dict(
    head=dict(
        selector=dict(warmup_epochs={{_base_.train_cfg.max_epochs}})))
