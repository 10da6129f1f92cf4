"""PyTorch mirrors of the staged CIFAR models of Sources/LSSKDModels (a peer, never a dependency).

Each model is `stem -> stages (taps) -> head -> global average pooling -> linear`, as
`StagedNetwork` defines it, and keeps the stage *factories* (`StageSpec`) so that LSSKD's
auxiliary branches can be built as fresh-weight copies (`AuxiliaryBranch.swift`,
`StagedModel.makeBranchTrunk`): the branch after stage s < S is a copy of stages s+1..S, the
branch after stage S a copy of stage S at stride 1 fed with the last tap; then a fresh head,
GAP and a linear layer to 4N joint classes.

Mirrored: layer structure, widths, strides, kernel sizes, biases, the (bias-free) convs, the
heads (WRN BN-ReLU, ShuffleV2/MobileNetV2 1x1 conv-BN-ReLU) and the initialisation family of
each reference (kaiming-normal fan-out convs for ResNet/WRN/MobileNetV2, PyTorch defaults for
ShuffleV2; WRN zero classifier bias, MobileNetV2 N(0, 0.01) classifier). Parameter counts are
identical to ours (EXACT_COUNTS, from Tests/LSSKDModelsTests/ModelZooTests.swift). Not mirrored:
parameter names (PyTorch's module names differ a little), the RNG (weights differ in value), and
the ShuffleV2 fused concat+shuffle kernel (here cat + view/transpose, the usual PyTorch way).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

# Backbone parameters for 3x32x32 inputs and 100 classes (ModelZooTests.exactCounts).
EXACT_COUNTS = {"resnet20": 278_324, "wrn_16_2": 703_284, "ShuffleV2": 1_355_528, "MobileNetV2": 812_836}
# Branches alone (4 x 100 joint classes), LSSKD.md's table, in millions (3 decimals).
TABLE_BRANCHES_M = {"resnet20": 0.763, "wrn_16_2": 1.928, "ShuffleV2": 4.520, "MobileNetV2": 4.671}
# Branch counts computed by hand from the Swift definitions (our tests pin only the table's 0.5%):
# resnet20 684,992 trunk + 3 x 26,000 fc; wrn_16_2 1,772,736 trunk + 3 x (51,600 fc + 256 BN head).
EXACT_BRANCH_COUNTS = {"resnet20": 762_992, "wrn_16_2": 1_928_304}


def conv(cin, cout, k, stride=1, groups=1, bias=False):
    return nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=bias)


class ConvBN(nn.Sequential):
    def __init__(self, cin, cout, k, stride=1, groups=1, relu=True):
        layers = [conv(cin, cout, k, stride, groups), nn.BatchNorm2d(cout)]
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class BNReLU(nn.Sequential):
    def __init__(self, c):
        super().__init__(nn.BatchNorm2d(c), nn.ReLU(inplace=True))


class BasicBlock(nn.Module):
    """Post-activation CIFAR ResNet block; 1x1 conv + BN projection where the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1, self.bn1 = conv(cin, cout, 3, stride), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = conv(cout, cout, 3), nn.BatchNorm2d(cout)
        self.downsample = ConvBN(cin, cout, 1, stride, relu=False) if (stride != 1 or cin != cout) else None

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class PreActBlock(nn.Module):
    """WRN pre-activation block; bias-free 1x1 conv shortcut of relu(bn1(x)) where the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), conv(cin, cout, 3, stride)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout), conv(cout, cout, 3)
        self.shortcut = conv(cin, cout, 1, stride) if (stride != 1 or cin != cout) else None

    def forward(self, x):
        a = F.relu(self.bn1(x))
        s = x if self.shortcut is None else self.shortcut(a)
        return self.conv2(F.relu(self.bn2(self.conv1(a)))) + s


def channel_shuffle(x, groups):
    b, c, h, w = x.shape
    return x.view(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


class ShuffleV2Unit(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c // 2
        self.split = h
        self.conv1, self.bn1 = conv(h, h, 1), nn.BatchNorm2d(h)
        self.conv2, self.bn2 = conv(h, h, 3, groups=h), nn.BatchNorm2d(h)
        self.conv3, self.bn3 = conv(h, h, 1), nn.BatchNorm2d(h)

    def forward(self, x):
        x1, x2 = x[:, :self.split], x[:, self.split:]
        out = F.relu(self.bn1(self.conv1(x2)))
        out = self.bn2(self.conv2(out))
        out = F.relu(self.bn3(self.conv3(out)))
        return channel_shuffle(torch.cat([x1, out], 1), 2)


class ShuffleV2DownUnit(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        mid = cout // 2
        self.conv1, self.bn1 = conv(cin, cin, 3, stride, groups=cin), nn.BatchNorm2d(cin)
        self.conv2, self.bn2 = conv(cin, mid, 1), nn.BatchNorm2d(mid)
        self.conv3, self.bn3 = conv(cin, mid, 1), nn.BatchNorm2d(mid)
        self.conv4, self.bn4 = conv(mid, mid, 3, stride, groups=mid), nn.BatchNorm2d(mid)
        self.conv5, self.bn5 = conv(mid, mid, 1), nn.BatchNorm2d(mid)

    def forward(self, x):
        left = F.relu(self.bn2(self.conv2(self.bn1(self.conv1(x)))))
        right = F.relu(self.bn3(self.conv3(x)))
        right = F.relu(self.bn5(self.conv5(self.bn4(self.conv4(right)))))
        return channel_shuffle(torch.cat([left, right], 1), 2)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: the 1x1 expansion exists even for t = 1 (as in HSAKD's reference)."""

    def __init__(self, inp, oup, stride, t):
        super().__init__()
        hidden = inp * t
        self.conv = nn.Sequential(
            conv(inp, hidden, 1), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            conv(hidden, hidden, 3, stride, groups=hidden), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            conv(hidden, oup, 1), nn.BatchNorm2d(oup))
        self.residual = stride == 1 and inp == oup

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class StageSpec:
    """`StageSpec`: widths, stride, and a builder `(cin, stride) -> nn.Module` for fresh copies."""

    def __init__(self, cin, cout, stride, build):
        self.cin, self.cout, self.stride, self.build = cin, cout, stride, build

    def make(self, cin=None, stride=None):
        return self.build(self.cin if cin is None else cin, self.stride if stride is None else stride)


def kaiming_fan_out(module):
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class StagedNetwork(nn.Module):
    def __init__(self, name, stem, specs, head_factory, pooled, classes, conv_init, classifier_init):
        super().__init__()
        self.architecture, self.specs, self.pooled_width = name, specs, pooled
        self.head_factory = head_factory or (lambda: nn.Identity())
        self.conv_init = conv_init
        self.stem = stem
        self.stages = nn.ModuleList([s.make() for s in specs])
        self.head = self.head_factory()
        self.classifier = nn.Linear(pooled, classes)
        if conv_init == "kaiming_fan_out":
            kaiming_fan_out(self)
        if classifier_init == "zero_bias":
            nn.init.zeros_(self.classifier.bias)
        elif classifier_init == "normal_0.01":
            nn.init.normal_(self.classifier.weight, 0, 0.01)
            nn.init.zeros_(self.classifier.bias)

    def forward_with_taps(self, x):
        h = self.stem(x)
        taps = []
        for stage in self.stages:
            h = stage(h)
            taps.append(h)
        pooled = F.adaptive_avg_pool2d(self.head(h), 1).flatten(1)
        return self.classifier(pooled), taps, pooled

    def forward(self, x):
        return self.forward_with_taps(x)[0]

    def make_branch_trunk(self, index):
        """`makeBranchTrunk(after:)`: copies of the later stages, or the last stage at stride 1."""
        if index == len(self.specs) - 1:
            last = self.specs[index]
            return nn.Sequential(last.make(cin=last.cout, stride=1))
        return nn.Sequential(*[self.specs[t].make() for t in range(index + 1, len(self.specs))])


class AuxiliaryBranch(nn.Module):
    """`AuxiliaryBranch`: trunk, fresh head, GAP, linear (PyTorch-default init) to N*M joint classes."""

    def __init__(self, model, stage, joint_classes):
        super().__init__()
        self.trunk = model.make_branch_trunk(stage)
        self.head = model.head_factory()
        if model.conv_init == "kaiming_fan_out":
            kaiming_fan_out(self)
        self.classifier = nn.Linear(model.pooled_width, joint_classes)

    def forward(self, tap):
        pooled = F.adaptive_avg_pool2d(self.head(self.trunk(tap)), 1).flatten(1)
        return pooled, self.classifier(pooled)


def resnet20(in_channels=3, classes=100):
    n, filters = 3, [16, 16, 32, 64]
    specs, width = [], filters[0]
    for i, planes in enumerate(filters[1:]):
        def build(cin, stride, planes=planes):
            return nn.Sequential(*[BasicBlock(cin if b == 0 else planes, planes, stride if b == 0 else 1)
                                   for b in range(n)])
        specs.append(StageSpec(width, planes, 1 if i == 0 else 2, build))
        width = planes
    return StagedNetwork("resnet20", ConvBN(in_channels, filters[0], 3), specs, None, width, classes,
                         "kaiming_fan_out", "default")


def wrn_16_2(in_channels=3, classes=100):
    depth, widen = 16, 2
    n = (depth - 4) // 6
    specs, width = [], 16
    for i, planes in enumerate([16 * widen, 32 * widen, 64 * widen]):
        def build(cin, stride, planes=planes):
            return nn.Sequential(*[PreActBlock(cin if b == 0 else planes, planes, stride if b == 0 else 1)
                                   for b in range(n)])
        specs.append(StageSpec(width, planes, 1 if i == 0 else 2, build))
        width = planes
    last = width
    return StagedNetwork("wrn_16_2", conv(in_channels, 16, 3), specs, lambda: BNReLU(last), last, classes,
                         "kaiming_fan_out", "zero_bias")


def shufflev2(in_channels=3, classes=100):
    outs, basic, last_channels = [116, 232, 464], [3, 7, 3], 1024
    specs, width = [], 24
    for out, count in zip(outs, basic):
        def build(cin, stride, out=out, count=count):
            return nn.Sequential(ShuffleV2DownUnit(cin, out, stride), *[ShuffleV2Unit(out) for _ in range(count)])
        specs.append(StageSpec(width, out, 2, build))
        width = out
    last = width
    return StagedNetwork("ShuffleV2", ConvBN(in_channels, 24, 1), specs, lambda: ConvBN(last, last_channels, 1),
                         last_channels, classes, "default", "default")


def mobilenetv2(in_channels=3, classes=100, t=6, width=0.5):
    setting = [(1, 16, 1, 1), (t, 24, 2, 1), (t, 32, 3, 2), (t, 64, 4, 2), (t, 96, 3, 1), (t, 160, 3, 2),
               (t, 320, 1, 1)]

    def scaled(c):
        return int(c * width)
    stem_width = scaled(32)
    specs, win = [], stem_width
    for groups in [[0, 1], [2], [3, 4], [5, 6]]:
        rows = [setting[g] for g in groups]
        out = scaled(rows[-1][1])

        def build(cin, stride, rows=rows):
            blocks, c = [], cin
            for g, (tt, cc, nn_, ss) in enumerate(rows):
                oup = scaled(cc)
                for b in range(nn_):
                    s = 1 if b > 0 else (stride if g == 0 else ss)
                    blocks.append(InvertedResidual(c, oup, s, tt))
                    c = oup
            return nn.Sequential(*blocks)
        specs.append(StageSpec(win, out, rows[0][3], build))
        win = out
    last = win
    last_channels = int(1280 * width) if width > 1 else 1280
    return StagedNetwork("MobileNetV2", ConvBN(in_channels, stem_width, 3), specs,
                         lambda: ConvBN(last, last_channels, 1), last_channels, classes, "kaiming_fan_out",
                         "normal_0.01")


MODELS = {"resnet20": resnet20, "wrn_16_2": wrn_16_2, "ShuffleV2": shufflev2, "MobileNetV2": mobilenetv2}


def count(module):
    return sum(p.numel() for p in module.parameters())


def build_branches(model, classes, rotations=4):
    return nn.ModuleList([AuxiliaryBranch(model, s, classes * rotations) for s in range(len(model.specs))])


def check_counts(name, model, branches=None):
    """Asserts the backbone count equals ours exactly and the branches' matches LSSKD.md's table
    (0.5%, as ModelZooTests does; exactly where a hand-computed count exists). Returns the counts."""
    backbone = count(model)
    assert backbone == EXACT_COUNTS[name], f"{name}: {backbone} backbone parameters, ours {EXACT_COUNTS[name]}"
    total = None
    if branches is not None:
        total = count(branches)
        want = TABLE_BRANCHES_M[name]
        assert abs(total / 1e6 - want) <= 0.005 * want, f"{name}: branches {total}, table {want}M"
        if name in EXACT_BRANCH_COUNTS:
            assert total == EXACT_BRANCH_COUNTS[name], f"{name}: branches {total}, ours {EXACT_BRANCH_COUNTS[name]}"
    return backbone, total


if __name__ == "__main__":
    for name, make in MODELS.items():
        m = make()
        b = build_branches(m, 100)
        print(name, check_counts(name, m, b))
