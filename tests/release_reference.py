"""The reference PyTorch release's networks (znxlwm/UGATIT-pytorch, networks.py), rebuilt from
`shared/reference/` for tests: same module tree (so state-dict keys match the release's inventory), same
forward computation, written without `ugatit_nb` so it is an independent check of `ugatit_nb.official`."""
import torch
import torch.nn as nn
import torch.nn.functional as F

SN = nn.utils.spectral_norm


class adaILN(nn.Module):
    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.rho = nn.Parameter(torch.Tensor(1, num_features, 1, 1).fill_(0.9))

    def forward(self, x, gamma, beta):
        in_mean, in_var = torch.mean(x, dim=[2, 3], keepdim=True), torch.var(x, dim=[2, 3], keepdim=True)
        out_in = (x - in_mean) / torch.sqrt(in_var + self.eps)
        ln_mean, ln_var = torch.mean(x, dim=[1, 2, 3], keepdim=True), torch.var(x, dim=[1, 2, 3], keepdim=True)
        out_ln = (x - ln_mean) / torch.sqrt(ln_var + self.eps)
        rho = self.rho.expand(x.shape[0], -1, -1, -1)
        out = rho * out_in + (1 - rho) * out_ln
        return out * gamma.unsqueeze(2).unsqueeze(3) + beta.unsqueeze(2).unsqueeze(3)


class ILN(nn.Module):
    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.rho = nn.Parameter(torch.Tensor(1, num_features, 1, 1).fill_(0.0))
        self.gamma = nn.Parameter(torch.Tensor(1, num_features, 1, 1).fill_(1.0))
        self.beta = nn.Parameter(torch.Tensor(1, num_features, 1, 1).fill_(0.0))

    def forward(self, x):
        in_mean, in_var = torch.mean(x, dim=[2, 3], keepdim=True), torch.var(x, dim=[2, 3], keepdim=True)
        out_in = (x - in_mean) / torch.sqrt(in_var + self.eps)
        ln_mean, ln_var = torch.mean(x, dim=[1, 2, 3], keepdim=True), torch.var(x, dim=[1, 2, 3], keepdim=True)
        out_ln = (x - ln_mean) / torch.sqrt(ln_var + self.eps)
        rho = self.rho.expand(x.shape[0], -1, -1, -1)
        out = rho * out_in + (1 - rho) * out_ln
        return out * self.gamma.expand(x.shape[0], -1, -1, -1) + self.beta.expand(x.shape[0], -1, -1, -1)


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, 1, 0, bias=False), nn.InstanceNorm2d(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, 1, 0, bias=False), nn.InstanceNorm2d(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetAdaILNBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.pad1, self.conv1, self.norm1 = nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, 1, 0, bias=False), adaILN(dim)
        self.relu1 = nn.ReLU(True)
        self.pad2, self.conv2, self.norm2 = nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, 1, 0, bias=False), adaILN(dim)

    def forward(self, x, gamma, beta):
        out = self.relu1(self.norm1(self.conv1(self.pad1(x)), gamma, beta))
        return self.norm2(self.conv2(self.pad2(out)), gamma, beta) + x


class ResnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, ngf=64, n_blocks=6, img_size=256, light=False):
        super().__init__()
        self.n_blocks, self.light = n_blocks, light
        down = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7, 1, 0, bias=False), nn.InstanceNorm2d(ngf), nn.ReLU(True)]
        for i in range(2):
            mult = 2 ** i
            down += [nn.ReflectionPad2d(1), nn.Conv2d(ngf * mult, ngf * mult * 2, 3, 2, 0, bias=False),
                     nn.InstanceNorm2d(ngf * mult * 2), nn.ReLU(True)]
        mult = 4
        down += [ResnetBlock(ngf * mult) for _ in range(n_blocks)]
        self.DownBlock = nn.Sequential(*down)
        self.gap_fc = nn.Linear(ngf * mult, 1, bias=False)
        self.gmp_fc = nn.Linear(ngf * mult, 1, bias=False)
        self.conv1x1 = nn.Conv2d(ngf * mult * 2, ngf * mult, 1, 1, bias=True)
        self.relu = nn.ReLU(True)
        fc_in = ngf * mult if light else img_size // mult * img_size // mult * ngf * mult
        self.FC = nn.Sequential(nn.Linear(fc_in, ngf * mult, bias=False), nn.ReLU(True),
                                nn.Linear(ngf * mult, ngf * mult, bias=False), nn.ReLU(True))
        self.gamma = nn.Linear(ngf * mult, ngf * mult, bias=False)
        self.beta = nn.Linear(ngf * mult, ngf * mult, bias=False)
        for i in range(n_blocks):
            setattr(self, 'UpBlock1_' + str(i + 1), ResnetAdaILNBlock(ngf * mult))
        up = []
        for i in range(2):
            mult = 2 ** (2 - i)
            up += [nn.Upsample(scale_factor=2, mode='nearest'), nn.ReflectionPad2d(1),
                   nn.Conv2d(ngf * mult, ngf * mult // 2, 3, 1, 0, bias=False), ILN(ngf * mult // 2), nn.ReLU(True)]
        up += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7, 1, 0, bias=False), nn.Tanh()]
        self.UpBlock2 = nn.Sequential(*up)

    def forward(self, input):
        x = self.DownBlock(input)
        gap = F.adaptive_avg_pool2d(x, 1)
        gap_logit = self.gap_fc(gap.view(x.shape[0], -1))
        gap_weight = list(self.gap_fc.parameters())[0]          # as the release does it
        gap = x * gap_weight.unsqueeze(2).unsqueeze(3)
        gmp = F.adaptive_max_pool2d(x, 1)
        gmp_logit = self.gmp_fc(gmp.view(x.shape[0], -1))
        gmp_weight = list(self.gmp_fc.parameters())[0]
        gmp = x * gmp_weight.unsqueeze(2).unsqueeze(3)
        cam_logit = torch.cat([gap_logit, gmp_logit], 1)
        x = self.relu(self.conv1x1(torch.cat([gap, gmp], 1)))
        heatmap = torch.sum(x, dim=1, keepdim=True)
        if self.light:
            x_ = self.FC(F.adaptive_avg_pool2d(x, 1).view(x.shape[0], -1))
        else:
            x_ = self.FC(x.view(x.shape[0], -1))
        gamma, beta = self.gamma(x_), self.beta(x_)
        for i in range(self.n_blocks):
            x = getattr(self, 'UpBlock1_' + str(i + 1))(x, gamma, beta)
        return self.UpBlock2(x), cam_logit, heatmap


class Discriminator(nn.Module):
    def __init__(self, input_nc, ndf=64, n_layers=5):
        super().__init__()
        model = [nn.ReflectionPad2d(1), SN(nn.Conv2d(input_nc, ndf, 4, 2, 0, bias=True)), nn.LeakyReLU(0.2, True)]
        for i in range(1, n_layers - 2):
            mult = 2 ** (i - 1)
            model += [nn.ReflectionPad2d(1), SN(nn.Conv2d(ndf * mult, ndf * mult * 2, 4, 2, 0, bias=True)),
                      nn.LeakyReLU(0.2, True)]
        mult = 2 ** (n_layers - 2 - 1)
        model += [nn.ReflectionPad2d(1), SN(nn.Conv2d(ndf * mult, ndf * mult * 2, 4, 1, 0, bias=True)),
                  nn.LeakyReLU(0.2, True)]
        mult = 2 ** (n_layers - 2)
        self.gap_fc = SN(nn.Linear(ndf * mult, 1, bias=False))
        self.gmp_fc = SN(nn.Linear(ndf * mult, 1, bias=False))
        self.conv1x1 = nn.Conv2d(ndf * mult * 2, ndf * mult, 1, 1, bias=True)
        self.leaky_relu = nn.LeakyReLU(0.2, True)
        self.pad = nn.ReflectionPad2d(1)
        self.conv = SN(nn.Conv2d(ndf * mult, 1, 4, 1, 0, bias=False))
        self.model = nn.Sequential(*model)

    def forward(self, input):
        x = self.model(input)
        gap = F.adaptive_avg_pool2d(x, 1)
        gap_logit = self.gap_fc(gap.view(x.shape[0], -1))
        gap_weight = list(self.gap_fc.parameters())[0]          # weight_orig under spectral norm
        gap = x * gap_weight.unsqueeze(2).unsqueeze(3)
        gmp = F.adaptive_max_pool2d(x, 1)
        gmp_logit = self.gmp_fc(gmp.view(x.shape[0], -1))
        gmp_weight = list(self.gmp_fc.parameters())[0]
        gmp = x * gmp_weight.unsqueeze(2).unsqueeze(3)
        cam_logit = torch.cat([gap_logit, gmp_logit], 1)
        x = self.leaky_relu(self.conv1x1(torch.cat([gap, gmp], 1)))
        heatmap = torch.sum(x, dim=1, keepdim=True)
        return self.conv(self.pad(x)), cam_logit, heatmap


def release_networks(ch=64, n_res=4, img_size=256, light=False):
    "The six networks of a release checkpoint, keyed as the release saves them."
    g = lambda: ResnetGenerator(3, 3, ngf=ch, n_blocks=n_res, img_size=img_size, light=light)
    return dict(genA2B=g(), genB2A=g(), disGA=Discriminator(3, ch, 7), disGB=Discriminator(3, ch, 7),
                disLA=Discriminator(3, ch, 5), disLB=Discriminator(3, ch, 5))


def release_optimizers(nets, lr=1e-4, weight_decay=1e-4):
    "The release's two Adam optimizers: both generators in one, the four discriminators in the other."
    from itertools import chain
    G = torch.optim.Adam(chain(nets['genA2B'].parameters(), nets['genB2A'].parameters()), lr=lr, betas=(0.5, 0.999),
                         weight_decay=weight_decay)
    D = torch.optim.Adam(chain(*(nets[k].parameters() for k in ('disGA', 'disGB', 'disLA', 'disLB'))), lr=lr,
                         betas=(0.5, 0.999), weight_decay=weight_decay)
    return G, D


def release_train_step(nets, G_optim, D_optim, real_A, real_B, step, iteration, lr=1e-4, decay_flag=True,
                       adv_weight=1, cycle_weight=10, identity_weight=10, cam_weight=1000):
    "One iteration as the release's train loop does it (fakes with a graph in the D step, no no_grad anywhere)."
    genA2B, genB2A, disGA, disGB, disLA, disLB = (nets[k] for k in ('genA2B', 'genB2A', 'disGA', 'disGB', 'disLA', 'disLB'))
    L1, MSE, BCE = nn.L1Loss(), nn.MSELoss(), nn.BCEWithLogitsLoss()
    if decay_flag and step > (iteration // 2):
        G_optim.param_groups[0]['lr'] -= (lr / (iteration // 2))
        D_optim.param_groups[0]['lr'] -= (lr / (iteration // 2))
    # Update D
    D_optim.zero_grad()
    fake_A2B, _, _ = genA2B(real_A)
    fake_B2A, _, _ = genB2A(real_B)
    real_GA_logit, real_GA_cam_logit, _ = disGA(real_A)
    real_LA_logit, real_LA_cam_logit, _ = disLA(real_A)
    real_GB_logit, real_GB_cam_logit, _ = disGB(real_B)
    real_LB_logit, real_LB_cam_logit, _ = disLB(real_B)
    fake_GA_logit, fake_GA_cam_logit, _ = disGA(fake_B2A)
    fake_LA_logit, fake_LA_cam_logit, _ = disLA(fake_B2A)
    fake_GB_logit, fake_GB_cam_logit, _ = disGB(fake_A2B)
    fake_LB_logit, fake_LB_cam_logit, _ = disLB(fake_A2B)
    one, zero = torch.ones_like, torch.zeros_like
    D_ad_loss_GA = MSE(real_GA_logit, one(real_GA_logit)) + MSE(fake_GA_logit, zero(fake_GA_logit))
    D_ad_cam_loss_GA = MSE(real_GA_cam_logit, one(real_GA_cam_logit)) + MSE(fake_GA_cam_logit, zero(fake_GA_cam_logit))
    D_ad_loss_LA = MSE(real_LA_logit, one(real_LA_logit)) + MSE(fake_LA_logit, zero(fake_LA_logit))
    D_ad_cam_loss_LA = MSE(real_LA_cam_logit, one(real_LA_cam_logit)) + MSE(fake_LA_cam_logit, zero(fake_LA_cam_logit))
    D_ad_loss_GB = MSE(real_GB_logit, one(real_GB_logit)) + MSE(fake_GB_logit, zero(fake_GB_logit))
    D_ad_cam_loss_GB = MSE(real_GB_cam_logit, one(real_GB_cam_logit)) + MSE(fake_GB_cam_logit, zero(fake_GB_cam_logit))
    D_ad_loss_LB = MSE(real_LB_logit, one(real_LB_logit)) + MSE(fake_LB_logit, zero(fake_LB_logit))
    D_ad_cam_loss_LB = MSE(real_LB_cam_logit, one(real_LB_cam_logit)) + MSE(fake_LB_cam_logit, zero(fake_LB_cam_logit))
    D_loss_A = adv_weight * (D_ad_loss_GA + D_ad_cam_loss_GA + D_ad_loss_LA + D_ad_cam_loss_LA)
    D_loss_B = adv_weight * (D_ad_loss_GB + D_ad_cam_loss_GB + D_ad_loss_LB + D_ad_cam_loss_LB)
    Discriminator_loss = D_loss_A + D_loss_B
    Discriminator_loss.backward()
    D_optim.step()
    # Update G
    G_optim.zero_grad()
    fake_A2B, fake_A2B_cam_logit, _ = genA2B(real_A)
    fake_B2A, fake_B2A_cam_logit, _ = genB2A(real_B)
    fake_A2B2A, _, _ = genB2A(fake_A2B)
    fake_B2A2B, _, _ = genA2B(fake_B2A)
    fake_A2A, fake_A2A_cam_logit, _ = genB2A(real_A)
    fake_B2B, fake_B2B_cam_logit, _ = genA2B(real_B)
    fake_GA_logit, fake_GA_cam_logit, _ = disGA(fake_B2A)
    fake_LA_logit, fake_LA_cam_logit, _ = disLA(fake_B2A)
    fake_GB_logit, fake_GB_cam_logit, _ = disGB(fake_A2B)
    fake_LB_logit, fake_LB_cam_logit, _ = disLB(fake_A2B)
    G_ad_loss_GA = MSE(fake_GA_logit, one(fake_GA_logit))
    G_ad_cam_loss_GA = MSE(fake_GA_cam_logit, one(fake_GA_cam_logit))
    G_ad_loss_LA = MSE(fake_LA_logit, one(fake_LA_logit))
    G_ad_cam_loss_LA = MSE(fake_LA_cam_logit, one(fake_LA_cam_logit))
    G_ad_loss_GB = MSE(fake_GB_logit, one(fake_GB_logit))
    G_ad_cam_loss_GB = MSE(fake_GB_cam_logit, one(fake_GB_cam_logit))
    G_ad_loss_LB = MSE(fake_LB_logit, one(fake_LB_logit))
    G_ad_cam_loss_LB = MSE(fake_LB_cam_logit, one(fake_LB_cam_logit))
    G_recon_loss_A = L1(fake_A2B2A, real_A)
    G_recon_loss_B = L1(fake_B2A2B, real_B)
    G_identity_loss_A = L1(fake_A2A, real_A)
    G_identity_loss_B = L1(fake_B2B, real_B)
    G_cam_loss_A = BCE(fake_B2A_cam_logit, one(fake_B2A_cam_logit)) + BCE(fake_A2A_cam_logit, zero(fake_A2A_cam_logit))
    G_cam_loss_B = BCE(fake_A2B_cam_logit, one(fake_A2B_cam_logit)) + BCE(fake_B2B_cam_logit, zero(fake_B2B_cam_logit))
    G_loss_A = (adv_weight * (G_ad_loss_GA + G_ad_cam_loss_GA + G_ad_loss_LA + G_ad_cam_loss_LA)
                + cycle_weight * G_recon_loss_A + identity_weight * G_identity_loss_A + cam_weight * G_cam_loss_A)
    G_loss_B = (adv_weight * (G_ad_loss_GB + G_ad_cam_loss_GB + G_ad_loss_LB + G_ad_cam_loss_LB)
                + cycle_weight * G_recon_loss_B + identity_weight * G_identity_loss_B + cam_weight * G_cam_loss_B)
    Generator_loss = G_loss_A + G_loss_B
    Generator_loss.backward()
    G_optim.step()
    for g in (genA2B, genB2A):                            # the release's RhoClipper
        for m in g.modules():
            if hasattr(m, 'rho'): m.rho.data = m.rho.data.clamp(0, 1)
    return Discriminator_loss.item(), Generator_loss.item()


def load_in_order(net, release_state):
    """Copy a release state dict into an `ugatit_nb` network by pairing entries in registration order (the release
    registers a discriminator's `model` last, so its entries are moved first). Leaf names and shapes must agree pair by
    pair. This does not use `ugatit_nb.official`'s key maps, so a network can be checked before those exist."""
    ours = net.state_dict()
    theirs = sorted(release_state, key=lambda k: not k.startswith('model.'))
    assert len(ours) == len(theirs), f'{len(ours)} entries against the release\'s {len(theirs)}'
    for k_ours, k_rel in zip(ours, theirs):
        same = k_ours.rsplit('.', 1)[-1] == k_rel.rsplit('.', 1)[-1] and ours[k_ours].shape == release_state[k_rel].shape
        assert same, f'{k_ours} {tuple(ours[k_ours].shape)} does not pair with {k_rel} {tuple(release_state[k_rel].shape)}'
    net.load_state_dict({k: release_state[r] for k, r in zip(ours, theirs)})
    return net
