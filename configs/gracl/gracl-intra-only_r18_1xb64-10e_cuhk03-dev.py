# Ablation of the CUHK03 CPU recipe: the intra-ID proxies alone.
_base_ = ['./gracl_r18_1xb64-10e_cuhk03-dev.py']

model = dict(head=dict(inter_memory=None))
