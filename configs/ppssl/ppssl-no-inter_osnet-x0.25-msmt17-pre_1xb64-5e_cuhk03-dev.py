# PPSSL without its inter-similarity branch: no cross-image alignment and no
# aligned pair loss.
_base_ = ['./ppssl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py']

model = dict(head=dict(alignment=None, inter_weight=0.0))
