# lambda_c ablation of the CUHK03 CPU recipe: no camera term, neither in the
# neighbour selection nor in the reference test distance.
_base_ = ['./scl_r18_1xb64-10e_cuhk03-dev.py']

model = dict(head=dict(selector=dict(lambda_c=0.0)))
val_evaluator = [
    dict(type='ReIDMetric'),
    dict(type='SCLReIDMetric', lambda_g=0.5, lambda_c=0.0),
]
test_evaluator = val_evaluator
