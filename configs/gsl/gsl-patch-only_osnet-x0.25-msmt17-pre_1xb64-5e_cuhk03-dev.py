# GSL ablation under the fair CPU protocol: the patch branch only (PAUL:
# patch generator, PEDAL and IPFL; the patches are the retrieval feature);
# no global branch. Data, views and optimiser as the two-branch recipe.
_base_ = [
    './gsl-global-and-patch_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py'
]

model = dict(neck=None, head=None)
