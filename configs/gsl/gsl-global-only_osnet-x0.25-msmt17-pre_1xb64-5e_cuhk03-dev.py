# GSL ablation under the fair CPU protocol: the global branch only (instance
# memory, credible samples, the global similarity-based loss); no patch
# generator, no PEDAL / IPFL. Data, views and optimiser as the full recipe.
_base_ = ['./gsl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py']

model = dict(patch_neck=None, patch_head=None)
