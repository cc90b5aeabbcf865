# Ablation under the fair CPU protocol: the inter-ID proxies alone.
_base_ = ['./gracl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py']

model = dict(head=dict(intra_memory=None))
