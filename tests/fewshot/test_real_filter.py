import torch

from synthrec.fewshot.real_filter import real_filter


def test_nearest_shot_rule():
    shots = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1]])
    shot_y = torch.tensor([0, 1, 0])
    syn = torch.tensor([[1.0, 0.05], [0.1, 1.0], [0.2, 1.0], [5.0, 0.0]])
    syn_y = torch.tensor([0, 0, 1, 1])
    r = real_filter(syn, syn_y, shots, shot_y, num_classes=2)
    # a class-0 image near class 1's shot and a class-1 image near class 0's shots are dropped; scale is ignored
    assert r.keep.tolist() == [True, False, True, False]
    assert r.nearest_class.tolist() == [0, 1, 1, 0]
    assert r.num_kept == 2
