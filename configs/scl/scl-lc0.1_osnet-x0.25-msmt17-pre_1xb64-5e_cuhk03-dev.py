# lambda_c ablation under the fair CPU protocol: twice the reference's
# same-camera penalty.
_base_ = ['./scl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py']

model = dict(head=dict(selector=dict(lambda_c=0.1)))
