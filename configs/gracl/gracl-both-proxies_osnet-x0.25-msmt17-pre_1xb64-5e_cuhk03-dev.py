# Ablation under the fair CPU protocol: both relation-aware proxies, the
# inter-ID and the intra-ID modules of the abstract (the recipe keeps the
# inter-ID one only).
_base_ = ['./gracl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py']

model = dict(
    head=dict(
        intra_memory=dict(
            _delete_=True,
            type='ProxyMemory',
            selector=dict(type='IntraIDProxySelector'),
            momentum=0.1,
            update_rule='hard')))
