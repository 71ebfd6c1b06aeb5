#!/usr/bin/python3
"""Golden cases for nn.concat, nn.reshape, nn.flatten, nn.permute, nn.transpose and nn.narrow
-> tests/data/golden/nn/shape.json.

concat of 2 and 3 inputs along dims 0, 1 and -1 (default dim included); reshape with and without
-1; flatten with defaults and explicit start_dim/end_dim; permutes; transposes with negative dims;
narrows along first, middle and last dims, with negative dim and start, the whole dim, and an
empty slice at the end.
"""
import torch

from common import Golden

g = Golden(__file__, seed=1006)


def concat(shapes, dim=None):
    attrs = {} if dim is None else {"dim": dim}
    d = 0 if dim is None else dim
    g.case(f"concat {len(shapes)} inputs {[list(s) for s in shapes]} along dim {d}",
           "nn.concat", lambda *xs: torch.cat(xs, d), [g.randn(*s) for s in shapes], attrs)


concat([(2, 3), (4, 3)])
concat([(2, 3, 5), (1, 3, 5), (3, 3, 5)], dim=0)
concat([(2, 3, 5), (2, 1, 5)], dim=1)
concat([(3, 2), (3, 5), (3, 1)], dim=1)
concat([(2, 3, 5), (2, 3, 2)], dim=-1)
concat([(2, 3, 1), (2, 3, 4), (2, 3, 3)], dim=-1)
concat([(3, 4)], dim=1)


def reshape(shape, new_shape):
    g.case(f"reshape {list(shape)} to {list(new_shape)}", "nn.reshape",
           lambda x: torch.reshape(x, new_shape), [g.randn(*shape)], {"shape": list(new_shape)})


reshape((2, 3, 5), (6, 5))
reshape((2, 3, 5), (-1,))
reshape((2, 3, 5), (5, -1, 2))
reshape((4, 9), (3, 1, -1))
reshape((7,), (1, 7))


def flatten(shape, start_dim=None, end_dim=None):
    attrs = {}
    if start_dim is not None:
        attrs["start_dim"] = start_dim
    if end_dim is not None:
        attrs["end_dim"] = end_dim
    s = 1 if start_dim is None else start_dim
    e = -1 if end_dim is None else end_dim
    g.case(f"flatten {list(shape)} start_dim {s} end_dim {e}", "nn.flatten",
           lambda x: torch.flatten(x, s, e), [g.randn(*shape)], attrs)


flatten((2, 3, 5))
flatten((2, 3, 4, 5))
flatten((2, 3, 4, 5), start_dim=0)
flatten((2, 3, 4, 5), start_dim=1, end_dim=2)
flatten((2, 3, 4, 5), start_dim=-3, end_dim=-2)
flatten((3, 7), start_dim=0, end_dim=0)


def permute(shape, dims):
    g.case(f"permute {list(shape)} by {list(dims)}", "nn.permute",
           lambda x: x.permute(dims), [g.randn(*shape)], {"dims": list(dims)})


permute((3, 7), (1, 0))
permute((2, 3, 5), (2, 0, 1))
permute((2, 3, 4, 5), (0, 2, 3, 1))
permute((2, 3, 4, 5), (3, 2, 1, 0))


def transpose(shape, dim0, dim1):
    g.case(f"transpose {list(shape)} dims {dim0} and {dim1}", "nn.transpose",
           lambda x: x.transpose(dim0, dim1), [g.randn(*shape)], {"dim0": dim0, "dim1": dim1})


transpose((3, 7), 0, 1)
transpose((2, 3, 5), 0, 2)
transpose((2, 3, 5), -1, -2)
transpose((2, 3, 4, 5), 1, -1)
transpose((2, 3, 5), -3, 1)



def narrow(shape, dim, start, length):
    g.case(f"narrow {list(shape)} dim {dim} start {start} length {length}", "nn.narrow",
           lambda x: x.narrow(dim, start, length), [g.randn(*shape)],
           {"dim": dim, "start": start, "length": length})


narrow((3, 7), 1, 2, 3)
narrow((2, 5, 4), 0, 1, 1)
narrow((2, 5, 4), -1, -3, 2)
narrow((2, 5, 4), 1, 0, 5)
narrow((2, 5, 4), 1, 5, 0)
narrow((4, 3, 6), -2, -3, 3)
narrow((7,), 0, 2, 4)
narrow((2, 3, 4, 5), 2, 1, 2)

g.write("shape.json")
