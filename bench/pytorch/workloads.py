"""The PyTorch side of `npm run bench -- vs-pytorch` and `npm run bench -- transformer` (bench/vs-pytorch.ts drives
it).

    python workloads.py export DIR [NAME...]
                                            the networks (seeded weights) as ONNX, their state dicts and data; prints
                                            one JSON line: each workload's batch size and sample count
    python workloads.py train DIR NAME --threads N --epochs E
                                            trains NAME as regraft does and prints one JSON line

Both sides train the same network from the same weights on the same data: regraft trains DIR/NAME.onnx (exported
here in eval form; regraft inserts the Dropout and switches BatchNorm to batch statistics), PyTorch loads
DIR/NAME.pt into the same module. Same loss (cross-entropy), optimizer (Adam, lr 1e-3), batch size and Dropout.
PyTorch reads the batches in order; regraft's trainer shuffles them every epoch, as `regraft train` does (a row
gather per batch that PyTorch's side does not pay). ResNet-18 is torchvision's resnet18(num_classes=10), written out here so
the benchmark does not need torchvision.
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
from torch import nn

# name -> (batch size, samples, sample shape, Dropout in regraft's terms)
WORKLOADS = {
    "mlp-32": dict(batch=32, samples=8192, shape=[784]),
    "mlp-128": dict(batch=128, samples=16384, shape=[784]),
    "lenet": dict(batch=64, samples=4096, shape=[1, 28, 28]),
    "resnet18": dict(batch=32, samples=384, shape=[3, 32, 32]),
    "transformer": dict(batch=32, samples=640, shape=[64, 128]),
    # issue 12's BERT-like classifier: token ids and an attention mask (right padding), 2 classes
    "bert": dict(batch=32, samples=640, shape=[64], vocab=1000, classes=2),
}


class Mlp(nn.Module):
    """784-128-10 with Dropout 0.5 after the ReLU (exported without it: regraft inserts it after Relu)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 128)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc2(self.drop(torch.relu(self.fc1(x))))


class LeNet(nn.Module):
    """LeNet-5 as regraft's models/lenet5.onnx: conv 5x5 (6, pad 2), pool, conv 5x5 (16), pool, 120, 84, 10."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f1 = nn.Linear(16 * 5 * 5, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.c1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.c2(x)), 2)
        x = torch.flatten(x, 1)
        return self.f3(torch.relu(self.f2(torch.relu(self.f1(x)))))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """torchvision.models.resnet18(num_classes=10): the same layers, shapes and initialization."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        blocks, cin = [], 64
        for i, cout in enumerate([64, 128, 256, 512]):
            stride = 1 if i == 0 else 2
            blocks.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = blocks
        self.fc = nn.Linear(512, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(torch.mean(x, dim=(2, 3), keepdim=True), 1))


class EncoderLayer(nn.Module):
    """nn.TransformerEncoderLayer's post-norm math (ReLU, Dropout 0.1 at its four places), written out so that the
    export and the training run the same ops (nn.MultiheadAttention takes a fused path in eval mode)."""

    def __init__(self, d, heads, ff, dropout):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ff1 = nn.Linear(d, ff)
        self.ff2 = nn.Linear(ff, d)
        self.norm1 = nn.LayerNorm(d)
        self.norm2 = nn.LayerNorm(d)
        self.drop_attn = nn.Dropout(dropout)
        self.drop1 = nn.Dropout(dropout)
        self.drop_ff = nn.Dropout(dropout)
        self.drop2 = nn.Dropout(dropout)

    def forward(self, x):
        n, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(x).reshape(n, t, 3, h, d // h).permute(2, 0, 3, 1, 4).unbind(0)
        att = self.drop_attn(torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d // h), dim=-1))
        a = (att @ v).transpose(1, 2).reshape(n, t, d)
        x = self.norm1(x + self.drop1(self.out(a)))
        f = self.ff2(self.drop_ff(torch.relu(self.ff1(x))))
        return self.norm2(x + self.drop2(f))


class Transformer(nn.Module):
    """2 encoder layers, d 128, 4 heads, feed-forward 512, over T=64 float tokens; mean over T, then 10 logits."""

    def __init__(self, d=128, heads=4, ff=512, layers=2, classes=10, dropout=0.1):
        super().__init__()
        self.layers = nn.ModuleList([EncoderLayer(d, heads, ff, dropout) for _ in range(layers)])
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.head(x.mean(dim=1))


class Bert(nn.Module):
    """transformers' BertForSequenceClassification: 2 layers, hidden 128, 4 heads, feed-forward 512, sequence 64,
    taking input_ids and attention_mask and returning the logits. Dropout is off on both sides (regraft would insert
    it at the same places only by node name)."""

    def __init__(self):
        super().__init__()
        from transformers import BertConfig, BertForSequenceClassification
        w = WORKLOADS["bert"]
        cfg = BertConfig(vocab_size=w["vocab"], hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=512, max_position_embeddings=w["shape"][0], num_labels=w["classes"],
                         hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        self.bert = BertForSequenceClassification(cfg)

    def forward(self, input_ids, attention_mask):
        return self.bert(input_ids=input_ids, attention_mask=attention_mask).logits


def build(name):
    torch.manual_seed(0)
    if name.startswith("mlp"):
        return Mlp()
    if name == "bert":
        return Bert()
    return {"lenet": LeNet, "resnet18": ResNet18, "transformer": Transformer}[name]()


def perturbed(model):
    """Every parameter plus a little noise: exporters merge equal tensors (all the LayerNorm weights, which start as
    ones, would become one tensor that regraft trains as one), and PyTorch trains them apart."""
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.01)
    return model


def export(out_dir, names):
    os.makedirs(out_dir, exist_ok=True)
    for name in names:
        w = WORKLOADS[name]
        model = perturbed(build(name)).eval()
        torch.save(model.state_dict(), os.path.join(out_dir, f"{name}.pt"))
        if name == "bert":
            export_bert(model, out_dir, w)
            continue
        example = torch.zeros([w["batch"], *w["shape"]])
        # Static shapes (the batch size fixed): the exporter folds the shape arithmetic to constants. BatchNorm is
        # exported as it trains (eval-mode folding would merge it into the convolutions).
        mode = torch.onnx.TrainingMode.TRAINING if name == "resnet18" else torch.onnx.TrainingMode.EVAL
        torch.onnx.export(model, (example,), os.path.join(out_dir, f"{name}.onnx"), dynamo=False, opset_version=17,
                          input_names=["input"], output_names=["logits"], training=mode,
                          do_constant_folding=mode == torch.onnx.TrainingMode.EVAL)
        rng = np.random.default_rng(1)
        x = rng.random([w["samples"], *w["shape"]], dtype=np.float32)
        y = rng.integers(0, 10, size=[w["samples"]], dtype=np.int64)
        np.save(os.path.join(out_dir, f"{name}-x.npy"), x)
        np.save(os.path.join(out_dir, f"{name}-y.npy"), y)
    print(json.dumps({"exported": {n: {"batch": WORKLOADS[n]["batch"], "samples": WORKLOADS[n]["samples"]} for n in names}}))


def export_bert(model, out_dir, w):
    """dynamo=True, static shapes: the export issue 12 says compiles. Rows are right-padded to random lengths."""
    rng = np.random.default_rng(1)
    n, t = w["samples"], w["shape"][0]
    lengths = rng.integers(t // 4, t + 1, size=n)
    mask = (np.arange(t)[None, :] < lengths[:, None]).astype(np.int64)
    ids = rng.integers(1, w["vocab"], size=[n, t], dtype=np.int64) * mask
    y = rng.integers(0, w["classes"], size=[n], dtype=np.int64)
    batch = {"input_ids": torch.from_numpy(ids[:w["batch"]]), "attention_mask": torch.from_numpy(mask[:w["batch"]])}
    torch.onnx.export(model, (), os.path.join(out_dir, "bert.onnx"), kwargs=batch, dynamo=True, opset_version=18,
                      input_names=list(batch), output_names=["logits"], external_data=False, verbose=False)
    np.save(os.path.join(out_dir, "bert-input_ids.npy"), ids)
    np.save(os.path.join(out_dir, "bert-attention_mask.npy"), mask)
    np.save(os.path.join(out_dir, "bert-y.npy"), y)


def inputs_of(out_dir, name):
    """The data inputs, in the order forward() takes them."""
    if name == "bert":
        return [torch.from_numpy(np.load(os.path.join(out_dir, f"bert-{k}.npy"))) for k in ("input_ids", "attention_mask")]
    return [torch.from_numpy(np.load(os.path.join(out_dir, f"{name}-x.npy")))]


def train(out_dir, name, threads, epochs):
    torch.set_num_threads(threads)
    w = WORKLOADS[name]
    model = build(name)
    model.load_state_dict(torch.load(os.path.join(out_dir, f"{name}.pt")))
    model.train()
    xs = inputs_of(out_dir, name)
    y = torch.from_numpy(np.load(os.path.join(out_dir, f"{name}-y.npy")))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    rates, losses = [], []
    for _ in range(epochs):
        t0 = time.perf_counter()
        total = 0.0
        for i in range(0, len(y), w["batch"]):
            xb, yb = [x[i:i + w["batch"]] for x in xs], y[i:i + w["batch"]]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(*xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        rates.append(len(y) / (time.perf_counter() - t0))
        losses.append(total / len(y))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"samples_per_sec": rates, "train_loss": losses, "peak_rss": peak, "torch": torch.__version__}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["export", "train"])
    p.add_argument("dir")
    p.add_argument("names", nargs="*", metavar="NAME", help=f"one of {', '.join(WORKLOADS)}")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=3)
    a = p.parse_args()
    unknown = [n for n in a.names if n not in WORKLOADS]
    if unknown:
        p.error(f"unknown workload {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    if a.command == "export":
        export(a.dir, a.names or list(WORKLOADS))
    elif len(a.names) != 1:
        p.error("train takes one workload NAME")
    else:
        train(a.dir, a.names[0], a.threads, a.epochs)


if __name__ == "__main__":
    sys.exit(main())
