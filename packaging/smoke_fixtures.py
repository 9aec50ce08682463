"""Model files for packaging/smoke.sh (run with the build venv's python): a TorchScript model and a
state dict that needs a torchvision architecture. Writes them into the current folder."""

import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv2d(3, 4, 3), nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean((2, 3)))


torch.jit.script(Tiny().eval()).save("tiny-torchscript.pt")
torch.save({"conv1.weight": torch.zeros(4, 3, 3, 3), "fc.weight": torch.zeros(10, 4), "fc.bias": torch.zeros(10)}, "tiny-resnet.pth")
