# PyTorch's side of test/interop-torch.test.ts. Run by the test as
#
#   /usr/bin/python3 torch_interop.py DIR
#
# (Debian's python3-torch; no safetensors package exists for it, so the few lines that read
# and write the format are below, built on torch.frombuffer and the format's description.)
#
# DIR holds input.json and A.safetensors (a model the test trained in @lstm/wasm).
#  A: load it into nn.LSTM + nn.Linear with load_state_dict(strict=True); outputs on a batch;
#     three Adam steps; the result saved as A_torch.safetensors.
#  B: a model PyTorch initialises (torch.manual_seed), saved as B.safetensors (float32) and in
#     float64 / float16 / bfloat16; loss, logits, final state and every gradient on a token
#     batch; three SGD (momentum) steps.
#  C: nn.GRU, nn.RNN and a 2-layer nn.LSTM (module attribute named after the cell) saved as
#     safetensors, with loss, logits, state and gradients; and each exported by torch.onnx.export
#     (opset 14), with its zero-state logits.
# Everything is computed in float64 from the float32 weights. Results go to results.json.

import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {torch.float32: 'F32', torch.float64: 'F64', torch.float16: 'F16', torch.bfloat16: 'BF16'}
FROM_NAME = {v: k for k, v in DTYPES.items()}


def save_file(tensors, path, metadata=None):
    """safetensors writer: u64 header length, JSON header (padded with spaces to 8 bytes), raw data.
    Tensors in the reference writer's order: larger dtypes first, then by name."""
    order = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header, blobs, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name, t in order:
        t = t.detach().contiguous().cpu()
        # raw little-endian bytes of any dtype (bfloat16 has no numpy type: view it as int16)
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * ((8 - len(text) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def load_file(path):
    """safetensors reader: {name: tensor}, checking that the tensors tile the data."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    assert 8 + n <= len(data), 'header length past the end of the file'
    header = json.loads(data[8:8 + n].decode('utf-8'))
    header.pop('__metadata__', None)
    buf = bytearray(data[8 + n:])
    out, spans = {}, []
    for name, info in header.items():
        b, e = info['data_offsets']
        dtype = FROM_NAME[info['dtype']]
        shape = info['shape']
        if dtype == torch.bfloat16:
            t = torch.frombuffer(buf[b:e], dtype=torch.int16).view(torch.bfloat16) if e > b else torch.zeros(0, dtype=dtype)
        else:
            t = torch.frombuffer(buf[b:e], dtype=dtype) if e > b else torch.zeros(0, dtype=dtype)
        out[name] = t.reshape(shape).clone()
        spans.append((b, e))
    spans.sort()
    at = 0
    for b, e in spans:
        assert b == at, 'tensors do not tile the data'
        at = e
    assert at == len(buf), 'trailing bytes'
    return out


class Net(nn.Module):
    def __init__(self, X, H, L, V):
        super().__init__()
        self.lstm = nn.LSTM(input_size=X, hidden_size=H, num_layers=L)
        self.head = nn.Linear(H, V)

    def forward(self, x, h0, c0):
        out, (hT, cT) = self.lstm(x, (h0, c0))
        return self.head(out), hT, cT


class CellNet(nn.Module):
    """nn.LSTM / nn.GRU / nn.RNN as the attribute named after the cell, and a Linear head."""

    def __init__(self, cell, X, H, L, V):
        super().__init__()
        self.cell = cell
        mod = {'lstm': nn.LSTM, 'gru': nn.GRU, 'rnn': nn.RNN}[cell](input_size=X, hidden_size=H, num_layers=L)
        setattr(self, cell, mod)
        self.head = nn.Linear(H, V)

    def forward(self, x, h0, c0=None):
        mod = getattr(self, self.cell)
        if self.cell == 'lstm':
            out, (hT, cT) = mod(x, (h0, c0))
        else:
            out, hT = mod(x, h0)
            cT = None
        return self.head(out), hT, cT


class Logits(nn.Module):
    """CellNet from zero state, logits only: the graph torch.onnx.export writes."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        mod = getattr(self.net, self.net.cell)
        out = mod(x)[0]
        return self.net.head(out)


def flat(t):
    return t.detach().reshape(-1).tolist()


def as_input(batch, X):
    T, B = batch['seqLength'], batch['batchSize']
    if 'tokens' in batch:
        tok = torch.tensor(batch['tokens'], dtype=torch.long).reshape(T, B)
        return F.one_hot(tok, X).double()
    return torch.tensor(batch['inputs'], dtype=torch.float32).double().reshape(T, B, X)


def state(batch, L, H):
    B = batch['batchSize']
    s = batch.get('initialState')
    if not s:
        z = torch.zeros(L, B, H, dtype=torch.float64)
        return z, z.clone()
    f = lambda a: torch.tensor(a, dtype=torch.float32).double().reshape(L, B, H)
    return f(s['h']), (f(s['c']) if s.get('c') else None)


def loss_of(net, batch, X, L, H):
    x = as_input(batch, X)
    h0, c0 = state(batch, L, H)
    logits, hT, cT = net(x, h0, c0)
    V = logits.shape[-1]
    targets = torch.tensor(batch['targets'], dtype=torch.long)
    return F.cross_entropy(logits.reshape(-1, V), targets), logits, hT, cT


def train(net, batch, X, L, H, opt, steps):
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss, _, _, _ = loss_of(net, batch, X, L, H)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def main():
    d = sys.argv[1]
    with open(os.path.join(d, 'input.json')) as f:
        inp = json.load(f)
    res = {'torch': torch.__version__}

    # ---- A: trained in @lstm/wasm, loaded here ----
    a = inp['A']
    X, H, L, V = a['config']['inputSize'], a['config']['hiddenSize'], a['config']['numLayers'], a['config']['outputSize']
    sd = load_file(os.path.join(d, 'A.safetensors'))
    net = Net(X, H, L, V)
    result = net.load_state_dict(sd, strict=True)
    assert not result.missing_keys and not result.unexpected_keys, result
    res['A_dtypes'] = sorted({str(t.dtype) for t in sd.values()})
    res['A_keys'] = list(sd.keys())
    net = net.double()
    with torch.no_grad():
        loss, logits, hT, cT = loss_of(net, a['batch'], X, L, H)
    res['A_outputs'] = {'loss': loss.item(), 'logits': flat(logits), 'h': flat(hT), 'c': flat(cT)}
    opt = torch.optim.Adam(net.parameters(), **a['torchOptim'])
    res['A_losses'] = train(net, a['batch'], X, L, H, opt, a['steps'])
    save_file({k: v.float() for k, v in net.state_dict().items()}, os.path.join(d, 'A_torch.safetensors'), {'format': 'pt'})
    res['A_params'] = {k: flat(v) for k, v in net.state_dict().items()}

    # ---- B: created by PyTorch ----
    b = inp['B']
    X, H, L, V = b['config']['inputSize'], b['config']['hiddenSize'], b['config']['numLayers'], b['config']['outputSize']
    torch.manual_seed(b['seed'])
    net = Net(X, H, L, V)
    sd = net.state_dict()
    save_file(sd, os.path.join(d, 'B.safetensors'), {'format': 'pt'})
    save_file({k: v.double() for k, v in sd.items()}, os.path.join(d, 'B_f64.safetensors'), {'format': 'pt'})
    save_file({k: v.half() for k, v in sd.items()}, os.path.join(d, 'B_f16.safetensors'))
    save_file({k: v.bfloat16() for k, v in sd.items()}, os.path.join(d, 'B_bf16.safetensors'))
    res['B_params_f32'] = {k: flat(v) for k, v in sd.items()}
    res['B_params_f16'] = {k: flat(v.half().float()) for k, v in sd.items()}
    res['B_params_bf16'] = {k: flat(v.bfloat16().float()) for k, v in sd.items()}
    net = net.double()
    loss, logits, hT, cT = loss_of(net, b['batch'], X, L, H)
    loss.backward()
    res['B_outputs'] = {'loss': loss.item(), 'logits': flat(logits), 'h': flat(hT), 'c': flat(cT)}
    res['B_grads'] = {n: flat(p.grad) for n, p in net.named_parameters()}
    net.zero_grad()
    opt = torch.optim.SGD(net.parameters(), **b['torchOptim'])
    res['B_losses'] = train(net, b['batch'], X, L, H, opt, b['steps'])
    res['B_params'] = {k: flat(v) for k, v in net.state_dict().items()}

    # ---- C: other cells, created by PyTorch: safetensors and torch.onnx.export ----
    res['C'] = []
    for i, c in enumerate(inp['C']):
        X, H, L, V, cell = c['inputSize'], c['hiddenSize'], c['numLayers'], c['outputSize'], c['cell']
        torch.manual_seed(c['seed'])
        net = CellNet(cell, X, H, L, V)
        save_file(net.state_dict(), os.path.join(d, f'C{i}.safetensors'), {'format': 'pt'})
        T, B = c['batch']['seqLength'], c['batch']['batchSize']
        x32 = torch.tensor(c['batch']['inputs'], dtype=torch.float32).reshape(T, B, X)
        torch.onnx.export(Logits(net).eval(), (x32,), os.path.join(d, f'C{i}.onnx'), input_names=['input'], output_names=['logits'],
                          dynamic_axes={'input': {0: 'seq', 1: 'batch'}}, opset_version=14)
        net = net.double()
        h0, c0 = state(c['batch'], L, H)
        logits, hT, cT = net(x32.double(), h0, c0 if cell == 'lstm' else None)
        V_ = logits.shape[-1]
        loss = F.cross_entropy(logits.reshape(-1, V_), torch.tensor(c['batch']['targets'], dtype=torch.long))
        loss.backward()
        with torch.no_grad():
            zlogits = Logits(net)(x32.double())
        out = {'keys': list(net.state_dict().keys()), 'loss': loss.item(), 'logits': flat(logits), 'h': flat(hT),
               'grads': {n: flat(p.grad) for n, p in net.named_parameters()}, 'zeroStateLogits': flat(zlogits)}
        if cT is not None:
            out['c'] = flat(cT)
        res['C'].append(out)

    with open(os.path.join(d, 'results.json'), 'w') as f:
        json.dump(res, f)
    print('ok')


if __name__ == '__main__':
    main()
